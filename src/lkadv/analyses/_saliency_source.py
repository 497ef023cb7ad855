"""A saliency model for the salient occlusions: any registered ViT-like model, loaded once per run."""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

from lkadv.analyses._saliency import cls_attention, last_attention
from lkadv.errors import ConfigError

__all__ = ["SaliencySource", "default_saliency"]

_DEFAULTS = {"fashion-mnist": "fm-vit"}
_IMAGENET_DINO = "timm:vit_small_patch16_224.dino"


def default_saliency(dataset: str) -> str:
    """The study's DINO ViT-S/16, or the local ViT for the embedded Fashion-MNIST."""
    return _DEFAULTS.get(dataset, _IMAGENET_DINO)


class SaliencySource:
    """Patch saliency maps from a ViT's CLS attention, cached per image batch.

    Args:
        name: Model name or selector (``fm-vit``, ``timm:vit_small_patch16_224.dino``).
        registry: The model registry.
        device: Where it runs.
        head: Attention head.

    Raises:
        ConfigError: If the model cannot be built or loaded here (offline, unknown, not a ViT).
    """

    def __init__(self, name: str, registry: Any, device: torch.device, head: int) -> None:
        from lkadv.errors import LkadvError
        from lkadv.models import build_classifier, identify_network
        from lkadv.types import resolve

        self.name, self.head, self.device = name, head, device
        try:
            specs = registry.select(name)
            if len(specs) != 1:
                raise ConfigError(f"{name!r} selects {len(specs)} models, not one")
            self.spec = specs[0]
            factory = resolve(self.spec.factory)
            network = factory(**self.spec.factory_kwargs)
            self.identity = {"name": self.spec.name, "head": head, **identify_network(network, factory).as_dict()}
            self.model, _ = build_classifier(self.spec, network=network, device=device, channels_last=False)
            self.network = network
            last_attention(network)
        except (LkadvError, OSError, RuntimeError, ValueError) as exc:
            raise ConfigError(
                f"the saliency model {name!r} cannot be loaded here: {exc}. Pass occlusion.saliency=MODEL "
                "naming a ViT whose weights are local (fm-vit on Fashion-MNIST)"
            ) from exc
        self._cache: dict[tuple[int, int, tuple[int, ...], int], torch.Tensor] = {}

    def maps(self, x: torch.Tensor, grid: int) -> torch.Tensor:
        """Saliency per occlusion patch, ``[N, grid * grid]``, for images in [0, 1]."""
        key = (x.data_ptr(), x.device.index or 0, tuple(x.shape), grid)
        if key not in self._cache:
            c, h, w = self.spec.input_size
            xs = x.to(self.device)
            # A grey image feeds an RGB saliency model as three equal channels, and the reverse as their mean.
            if xs.shape[1] != c:
                xs = xs.mean(1, keepdim=True).expand(-1, c, -1, -1) if c in (1, 3) else xs
            if xs.shape[-2:] != (h, w):
                xs = F.interpolate(xs, size=(h, w), mode="bilinear", align_corners=False)
            parts = [cls_attention(self.model, self.network, xs[i : i + 64], self.head) for i in range(0, len(xs), 64)]
            cells = F.adaptive_avg_pool2d(torch.cat(parts)[:, None], grid)[:, 0]
            self._cache[key] = cells.flatten(1).cpu()
        return self._cache[key]

"""The model contract: what a plugin registers to make a classifier one name away."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from lkadv.specs._common import check, check_factory, check_name

__all__ = ["INTERPOLATIONS", "ModelSpec"]

INTERPOLATIONS = ("nearest", "bilinear", "bicubic", "lanczos", "box", "hamming")


@dataclass(frozen=True, kw_only=True)
class ModelSpec:
    """A registered model.

    The factory is lazy: registering and listing never import model code. It
    returns an ``nn.Module`` with its weights loaded, *unmerged* if it can be
    re-parameterized, that expects input already normalized with ``mean`` and
    ``std``. The core wraps it as a :class:`~lkadv.models.Classifier`.

    Attributes:
        name: Registry name (lowercase; ``-``, ``_`` and ``.`` allowed).
        family: Architecture family shown in reports (``"replknet"``, ``"vit"``...).
        factory: Callable (or ``module:attribute``) returning the network.
        label_space: Name of the label space of the logits (``"imagenet-1k"``...).
        num_classes: Number of logits.
        input_size: Native ``(channels, height, width)``.
        mean: Per-channel normalization mean, applied inside the Classifier.
        std: Per-channel normalization std.
        interpolation: Resize interpolation of the eval transform.
        crop_pct: Centre-crop fraction of the eval transform (1.0: no crop).
        crop_mode: ``"center"`` or ``"squash"`` (resize to a square, no crop).
        tags: Selector tags (``"large-kernel"``, ``"cnn"``, ``"vit"``...).
        kernel_sizes: Spatial kernel sizes per stage, where meaningful.
        params: Parameter count, for listings without building.
        weights_id: Identity of the weights (a sha256, a hub tag); part of every cell key.
        reparam_rtol: Largest accepted ``max|merged - unmerged| / max|unmerged|`` of
            the logits after structural re-parameterization.
        clean_accuracy: Measured top-1 on ``clean_accuracy_on``, as a fraction.
        clean_accuracy_on: Dataset (and split) of ``clean_accuracy``.
        factory_kwargs: Keyword arguments passed to the factory.
        description: One line for listings.
        source: Where the architecture and weights come from.
        anatomy: Optional callable (or ``module:attribute``) ``(network) -> dict``
            naming the parts the analyses use (large kernels before and after
            merging, skippable blocks with their stage, feature-map modules);
            see :mod:`lkadv.analyses`. Without it a network's own
            ``lkadv_anatomy()`` method, then discovery from its structure, is used.
    """

    name: str
    family: str
    factory: Callable[..., Any] | str
    label_space: str
    num_classes: int
    input_size: tuple[int, int, int]
    mean: tuple[float, ...]
    std: tuple[float, ...]
    interpolation: str = "bicubic"
    crop_pct: float = 1.0
    crop_mode: str = "center"
    tags: frozenset[str] = frozenset()
    kernel_sizes: tuple[int, ...] = ()
    params: int | None = None
    weights_id: str = ""
    reparam_rtol: float = 1e-4
    clean_accuracy: float | None = None
    clean_accuracy_on: str | None = None
    factory_kwargs: Mapping[str, Any] = field(default_factory=dict)
    description: str = ""
    source: str = ""
    anatomy: Callable[..., Any] | str | None = None

    def validate(self) -> None:
        """Check every field against the contract.

        Raises:
            SpecError: Naming the spec and the offending field.
        """
        kind, n = "ModelSpec", self.name
        check_name(kind, n)
        check(bool(self.family) and isinstance(self.family, str), kind, n, "family", "must be a non-empty string")
        check_factory(kind, n, self.factory)
        check(bool(self.label_space), kind, n, "label_space", "must be a non-empty string")
        check(
            isinstance(self.num_classes, int) and self.num_classes >= 2,
            kind,
            n,
            "num_classes",
            f"must be an int >= 2, got {self.num_classes!r}",
        )
        check(
            len(self.input_size) == 3 and all(isinstance(v, int) and v > 0 for v in self.input_size),
            kind,
            n,
            "input_size",
            f"must be (channels, height, width) of positive ints, got {self.input_size!r}",
        )
        channels = self.input_size[0]
        for fname, values in (("mean", self.mean), ("std", self.std)):
            check(
                len(values) == channels,
                kind,
                n,
                fname,
                f"has {len(values)} values but input_size has {channels} channel(s)",
            )
        check(all(s > 0 for s in self.std), kind, n, "std", "must be positive")
        check(self.interpolation in INTERPOLATIONS, kind, n, "interpolation", f"must be one of {INTERPOLATIONS}")
        check(0.0 < self.crop_pct <= 1.0, kind, n, "crop_pct", f"must be in (0, 1], got {self.crop_pct!r}")
        check(self.crop_mode in ("center", "squash"), kind, n, "crop_mode", "must be 'center' or 'squash'")
        check(isinstance(self.tags, frozenset), kind, n, "tags", "must be a frozenset of strings")
        check(self.reparam_rtol > 0, kind, n, "reparam_rtol", "must be positive")
        if self.anatomy is not None:
            check_factory(kind, n, self.anatomy, "anatomy")
        if self.clean_accuracy is not None:
            check(0.0 <= self.clean_accuracy <= 1.0, kind, n, "clean_accuracy", "must be a fraction in [0, 1]")

    def describe(self) -> dict[str, Any]:
        """A JSON-ready description (no factory objects)."""
        return {
            "name": self.name,
            "family": self.family,
            "label_space": self.label_space,
            "num_classes": self.num_classes,
            "input_size": list(self.input_size),
            "mean": list(self.mean),
            "std": list(self.std),
            "interpolation": self.interpolation,
            "crop_pct": self.crop_pct,
            "crop_mode": self.crop_mode,
            "tags": sorted(self.tags),
            "kernel_sizes": list(self.kernel_sizes),
            "params": self.params,
            "weights_id": self.weights_id,
            "clean_accuracy": self.clean_accuracy,
            "clean_accuracy_on": self.clean_accuracy_on,
            "description": self.description,
            "source": self.source,
        }

"""Model contracts, checked on the network a ModelSpec's factory returns."""

from __future__ import annotations

import copy
import json
import math
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING

import torch
import torch.nn.functional as F
from torch import nn

from lkadv.errors import LkadvError
from lkadv.models import Classifier, reparameterize
from lkadv.specs import ModelSpec
from lkadv.testing._contracts import run_contracts
from lkadv.testing._errors import ContractSkipped, ContractViolation
from lkadv.testing._inputs import tiny_images
from lkadv.testing._sample import LabelledSample, default_host, labelled_sample
from lkadv.types import resolve

if TYPE_CHECKING:
    from lkadv.plugins import PluginHost

__all__ = ["check_model", "normalization_candidates"]

# Relative to the largest logit: float32 reordering across batch sizes stays ~1e-6.
_RTOL = 1e-4


class _Subject:
    """The model under test, built once; contracts that mutate it build their own."""

    def __init__(self, spec: ModelSpec, batch: int) -> None:
        self.spec = spec
        self.batch = batch
        self._network: nn.Module | None = None
        self._classifier: Classifier | None = None

    def fresh_network(self) -> nn.Module:
        factory = resolve(self.spec.factory)
        try:
            network = factory(**self.spec.factory_kwargs)
        except Exception as exc:  # the plugin's own failure is a contract failure, named
            raise ContractViolation(
                "model.builds", f"model {self.spec.name!r}: factory raised {type(exc).__name__}: {exc}"
            ) from exc
        if not isinstance(network, nn.Module):
            raise ContractViolation(
                "model.builds", f"model {self.spec.name!r}: factory returned {type(network).__name__}, not nn.Module"
            )
        return network

    @property
    def network(self) -> nn.Module:
        if self._network is None:
            self._network = self.fresh_network()
        return self._network

    @property
    def classifier(self) -> Classifier:
        if self._classifier is None:
            self._classifier = self.wrap(self.network)
        return self._classifier

    def wrap(
        self, network: nn.Module, mean: Sequence[float] | None = None, std: Sequence[float] | None = None
    ) -> Classifier:
        s = self.spec
        return Classifier(
            network,
            mean=s.mean if mean is None else mean,
            std=s.std if std is None else std,
            num_classes=s.num_classes,
            name=s.name,
        )

    def images(self, seed: int = 0) -> torch.Tensor:
        return tiny_images(self.spec.input_size, self.batch, seed)

    def logits(self, contract: str, x: torch.Tensor) -> torch.Tensor:
        """Logits under no_grad, with the wrapper's own contract errors named as ``contract``."""
        try:
            with torch.no_grad():
                return self.classifier(x)
        except ContractViolation:
            raise
        except Exception as exc:  # a forward that fails on valid input breaks the contract under test
            raise ContractViolation(
                contract, f"model {self.spec.name!r}: forward failed on {list(x.shape)}: {type(exc).__name__}: {exc}"
            ) from exc


def _scale(t: torch.Tensor) -> float:
    return max(float(t.abs().max()), 1e-3)


def _metadata(m: _Subject) -> None:
    spec, name = m.spec, m.spec.name
    try:
        spec.validate()
    except LkadvError as exc:
        raise ContractViolation("model.metadata", str(exc)) from exc
    try:
        json.dumps(spec.describe())
    except (TypeError, ValueError) as exc:
        raise ContractViolation("model.metadata", f"model {name!r}: describe() is not JSON-ready: {exc}") from exc
    bad_tags = sorted(t for t in spec.tags if not isinstance(t, str) or t != t.strip().lower() or not t)
    if bad_tags:
        raise ContractViolation("model.metadata", f"model {name!r}: tags must be lowercase words, got {bad_tags}")
    if any(not isinstance(k, int) or k < 1 for k in spec.kernel_sizes):
        raise ContractViolation("model.metadata", f"model {name!r}: kernel_sizes must be positive ints")


def _builds(m: _Subject) -> None:
    _ = m.network


def _output_shape(m: _Subject) -> None:
    x = m.images()
    out = m.logits("model.output-shape", x)
    name, k = m.spec.name, m.spec.num_classes
    if out.shape != (len(x), k):
        raise ContractViolation(
            "model.output-shape", f"model {name!r}: logits {list(out.shape)}, expected [{len(x)}, {k}]"
        )
    if out.dtype != torch.float32:
        raise ContractViolation("model.output-shape", f"model {name!r}: logits are {out.dtype}, expected float32")
    if not bool(torch.isfinite(out).all()):
        raise ContractViolation("model.output-shape", f"model {name!r}: logits hold NaN or inf on [0,1] images")


def _input_range(m: _Subject) -> None:
    shape = (2, *m.spec.input_size)
    for label, x in (("all-black (0.0)", torch.zeros(shape)), ("all-white (1.0)", torch.ones(shape))):
        out = m.logits("model.input-range", x)
        if not bool(torch.isfinite(out).all()):
            raise ContractViolation(
                "model.input-range", f"model {m.spec.name!r}: {label} images give non-finite logits"
            )


def _gradients(m: _Subject) -> None:
    x = m.images().requires_grad_(True)
    name = m.spec.name
    try:
        logits = m.classifier(x)
        target = (logits.detach().argmax(1) + 1) % logits.shape[1]
        (grad,) = torch.autograd.grad(F.cross_entropy(logits, target), x)
    except RuntimeError as exc:
        raise ContractViolation(
            "model.gradients", f"model {name!r}: no gradient reaches the input ({exc}); gradient attacks need one"
        ) from exc
    if not bool(torch.isfinite(grad).all()):
        raise ContractViolation("model.gradients", f"model {name!r}: the input gradient holds NaN or inf")
    if float(grad.abs().max()) == 0.0:
        raise ContractViolation(
            "model.gradients",
            f"model {name!r}: the input gradient is zero everywhere (a detach, argmax or rounding in forward?)",
        )


def _eval_mode(m: _Subject) -> None:
    clf, name = m.classifier, m.spec.name
    training = [n or "<network>" for n, mod in clf.network.named_modules() if mod.training]
    if training:
        raise ContractViolation(
            "model.eval-mode",
            f"model {name!r}: module(s) {training[:5]} stay in training mode after eval() "
            "(does a module override train()?)",
        )
    before = {k: v.detach().clone() for k, v in clf.network.state_dict().items()}
    x = m.images()
    first = m.logits("model.eval-mode", x)
    changed = [k for k, v in clf.network.state_dict().items() if k in before and not torch.equal(v, before[k])]
    if changed:
        raise ContractViolation(
            "model.eval-mode",
            f"model {name!r}: a forward pass in eval mode changed {changed[:5]} (BatchNorm statistics updated: "
            "train mode left on)",
        )
    second = m.logits("model.eval-mode", x)
    diff = float((first - second).abs().max())
    if diff > 1e-5 * _scale(first):
        raise ContractViolation(
            "model.eval-mode",
            f"model {name!r}: the same input gave logits {diff:.3g} apart on two passes (dropout or another "
            "random layer still active: train mode left on, e.g. F.dropout without training=self.training)",
        )


def _batch_invariance(m: _Subject) -> None:
    x = m.images(seed=1)
    together = m.logits("model.batch-invariance", x)
    alone = torch.cat([m.logits("model.batch-invariance", x[i : i + 1]) for i in range(len(x))])
    diff = float((together - alone).abs().max())
    if diff > _RTOL * _scale(together):
        raise ContractViolation(
            "model.batch-invariance",
            f"model {m.spec.name!r}: logits in a batch of {len(x)} differ from the same images one by one by "
            f"{diff:.3g} (tolerance {_RTOL:g} of the logit scale {_scale(together):.3g}); batch statistics "
            "(BatchNorm in train mode or track_running_stats=False) make results depend on the batch",
        )


def normalization_candidates(
    spec: ModelSpec, x: torch.Tensor
) -> list[tuple[str, tuple[float, ...], tuple[float, ...], str]]:
    """The normalizations a plugin author may have meant instead of the declared one.

    Args:
        spec: The model.
        x: The labelled sample's images (for its own channel statistics).

    Returns:
        ``(label, mean, std, diagnosis)`` per candidate, the declared one first.
    """
    c = spec.input_size[0]
    dims = (0, 2, 3)
    own_mean = tuple(round(float(v), 4) for v in x.mean(dims))
    own_std = tuple(round(max(float(v), 1e-3), 4) for v in x.std(dims))
    imagenet_mean = (0.485, 0.456, 0.406) if c == 3 else (0.449,) * c
    imagenet_std = (0.229, 0.224, 0.225) if c == 3 else (0.226,) * c
    elsewhere = (
        "the network expects input normalized with other statistics than the spec's mean/std; if your data "
        "pipeline normalized outside the model, move that normalization into the spec"
    )
    out = [
        ("the spec's mean/std", tuple(spec.mean), tuple(spec.std), ""),
        (
            "raw [0,1] pixels (mean 0, std 1)",
            (0.0,) * c,
            (1.0,) * c,
            "the network does not expect normalized input: it normalizes inside itself (or was trained on raw "
            "pixels), so the spec's mean/std normalize a second time; take the normalization out of the "
            f"network, or declare mean={(0.0,) * c}, std={(1.0,) * c}",
        ),
        (f"the sample's own statistics (mean {own_mean}, std {own_std})", own_mean, own_std, elsewhere),
        (f"ImageNet statistics (mean {imagenet_mean}, std {imagenet_std})", imagenet_mean, imagenet_std, elsewhere),
        ("mean 0.5, std 0.5", (0.5,) * c, (0.5,) * c, elsewhere),
        (
            "[0,255] pixels (std 1/255)",
            (0.0,) * c,
            (1 / 255,) * c,
            "the network expects 0..255 pixel values; declare mean=(0.0,...) and std=(1/255,...) or the "
            "statistics it was trained with, times 255",
        ),
    ]
    declared = out[0]
    return [declared] + [o for o in out[1:] if not (_close(o[1], declared[1]) and _close(o[2], declared[2]))]


def _close(a: Sequence[float], b: Sequence[float]) -> bool:
    return all(abs(u - v) < 1e-3 for u, v in zip(a, b, strict=True))


def _accuracy(clf: Classifier, sample: LabelledSample) -> float:
    correct = 0
    with torch.no_grad():
        for i in range(0, len(sample.x), 64):
            logits = clf(sample.x[i : i + 64])
            if sample.head is not None:
                logits = sample.head(logits)
            correct += int((logits.argmax(1) == sample.y[i : i + 64]).sum())
    return correct / len(sample.x)


def _normalization(m: _Subject, sample: LabelledSample) -> None:
    n = len(sample.x)
    scores = []
    for label, mean, std, diagnosis in normalization_candidates(m.spec, sample.x):
        scores.append((_accuracy(m.wrap(m.network, mean, std), sample), label, diagnosis))
    declared, _, _ = scores[0]
    best, best_label, diagnosis = max(scores[1:], key=lambda s: s[0], default=scores[0])
    chance = 1.0 / sample.num_classes
    if max(s[0] for s in scores) < chance + 0.1:
        raise ContractSkipped(
            "model.normalization-inside",
            f"accuracy is at chance ({declared:.2f}) under every normalization on {sample.source}: the check "
            "needs trained weights",
        )
    # Two binomial standard errors of the difference, plus 5 points: only a clear loss counts.
    margin = 0.05 + 2 * math.sqrt((declared * (1 - declared) + best * (1 - best)) / n)
    if best - declared > margin:
        raise ContractViolation(
            "model.normalization-inside",
            f"model {m.spec.name!r}: accuracy on {sample.source} is {declared:.3f} with the spec's mean "
            f"{tuple(m.spec.mean)} / std {tuple(m.spec.std)} but {best:.3f} with {best_label}: {diagnosis}",
        )


def _reparam(m: _Subject) -> None:
    network = m.fresh_network()
    if not any(callable(getattr(mod, "reparameterize", None)) for mod in network.modules()):
        raise ContractSkipped("model.reparam-equivalence", "the network has no reparameterize(): nothing to merge")
    unmerged = m.wrap(copy.deepcopy(network))
    merged = m.wrap(network)
    x = torch.cat(
        [m.images(seed=2), torch.rand((m.batch, *m.spec.input_size), generator=torch.Generator().manual_seed(3))]
    )
    with torch.no_grad():
        before = unmerged(x)
        if not reparameterize(merged.network):
            raise ContractSkipped("model.reparam-equivalence", "reparameterize() merged nothing")
        merged.train(False)
        after = merged(x)
    rel = float((after - before).abs().max()) / _scale(before)
    if not rel <= m.spec.reparam_rtol:
        raise ContractViolation(
            "model.reparam-equivalence",
            f"model {m.spec.name!r}: merged logits differ from the unmerged ones by {rel:.3g} of the logit scale "
            f"(reparam_rtol {m.spec.reparam_rtol:g})",
        )


_CHECKS: dict[str, Callable[[_Subject], None]] = {
    "model.metadata": _metadata,
    "model.builds": _builds,
    "model.output-shape": _output_shape,
    "model.input-range": _input_range,
    "model.gradients": _gradients,
    "model.eval-mode": _eval_mode,
    "model.batch-invariance": _batch_invariance,
    "model.reparam-equivalence": _reparam,
}


def check_model(
    spec: ModelSpec,
    *,
    contracts: Iterable[str] | None = None,
    host: PluginHost | None = None,
    sample: tuple[torch.Tensor, torch.Tensor] | None = None,
    sample_size: int = 256,
    batch: int = 4,
) -> dict[str, str]:
    """Check a model spec and the network its factory returns against the model contracts.

    The normalization check needs labelled images in the model's label space: from
    ``sample``, else from the first dataset of ``host`` (default: every installed
    plugin) that scores the model and whose data is reachable; without any it is
    skipped.

    Args:
        spec: The model spec, as the plugin registers it.
        contracts: Contract names to run (default: every ``model.*`` contract).
        host: Plugin host whose datasets provide labelled images.
        sample: ``(images, labels)``: float32 NCHW in [0,1] at the native size, int64
            labels in the model's classes (overrides the datasets).
        sample_size: Images taken from a dataset.
        batch: Batch size of the tiny inputs.

    Returns:
        ``{contract: "ok" | "skipped: why"}`` in check order.

    Raises:
        ContractViolation: On the first broken contract, naming it and the value.
    """
    subject = _Subject(spec, batch)

    def check(name: str) -> None:
        if name != "model.normalization-inside":
            _CHECKS[name](subject)
            return
        found = _sample_for(spec, host, sample, sample_size)
        if isinstance(found, str):
            raise ContractSkipped(name, found)
        _normalization(subject, found)

    return run_contracts("model", contracts, check)


def _sample_for(
    spec: ModelSpec, host: PluginHost | None, sample: tuple[torch.Tensor, torch.Tensor] | None, n: int
) -> LabelledSample | str:
    if sample is not None:
        x, y = sample
        return LabelledSample(x, y, spec.num_classes, None, f"{len(x)} given images")
    return labelled_sample(spec, host or default_host(), n)

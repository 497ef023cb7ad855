"""Dataset contracts: root layout errors, the samples a loader builds, and the score step (head)."""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING

import torch

from lkadv.datasets import call_loader
from lkadv.errors import DataError
from lkadv.specs import DatasetSpec, ImageSet, LoadContext, Preprocessing
from lkadv.testing._contracts import check_described, run_contracts
from lkadv.testing._errors import ContractSkipped, ContractViolation
from lkadv.testing._sample import default_host
from lkadv.types import resolve

if TYPE_CHECKING:
    from lkadv.plugins import PluginHost

__all__ = ["check_dataset"]

_PRE = Preprocessing((3, 24, 24), "bilinear", 0.875, "center")


class _Subject:
    def __init__(
        self, spec: DatasetSpec, root: Path | None, model_classes: int | None, host: PluginHost | None, n: int
    ):
        self.spec, self.root, self.model_classes, self.host, self.n = spec, root, model_classes, host, n

    def load(self, root: Path | None) -> ImageSet:
        """The ImageSet the loader builds, called as a run calls it."""
        return call_loader(self.spec, root, _PRE, LoadContext())

    def data_root(self) -> Path | None:
        if self.root is not None:
            return self.root
        from lkadv.datasets import resolve_root

        try:
            return resolve_root(self.spec)
        except DataError as exc:
            raise ContractSkipped("dataset.samples", f"no data here ({exc}); pass root=") from exc


def _metadata(d: _Subject) -> None:
    spec = d.spec
    check_described("dataset.metadata", f"dataset {spec.name!r}", spec)
    if not spec.shipped and not spec.layout.strip():
        raise ContractViolation(
            "dataset.metadata",
            f"dataset {spec.name!r}: field 'layout' is empty; describe the expected folder layout (it is shown "
            "when the root is missing or malformed)",
        )


def _layout(d: _Subject) -> None:
    spec = d.spec
    if spec.shipped and d.root is None:
        return  # shipped data has no root to get wrong
    # A missing root is caught by the core (resolve_root); an empty one reaches the loader.
    with tempfile.TemporaryDirectory() as tmp:
        empty = Path(tmp)
        try:
            d.load(empty)
        except DataError as exc:
            text = str(exc)
            if str(empty) not in text and not (spec.layout and spec.layout in text):
                raise ContractViolation(
                    "dataset.layout",
                    f"dataset {spec.name!r}: the error for an empty root names neither the root nor the layout: "
                    f"{text!r}",
                ) from exc
            return
        except Exception as exc:  # anything but DataError is an unclear error for the user
            raise ContractViolation(
                "dataset.layout",
                f"dataset {spec.name!r}: an empty root raised {type(exc).__name__}: {exc}; raise "
                "lkadv.errors.DataError naming the root and the expected layout",
            ) from exc
        raise ContractViolation("dataset.layout", f"dataset {spec.name!r}: an empty root loaded without error")


def _samples(d: _Subject) -> None:
    spec, name = d.spec, d.spec.name
    imageset = d.load(d.data_root())
    ids, labels = list(imageset.ids), imageset.labels
    if not ids or len(ids) != len(labels):
        raise ContractViolation("dataset.samples", f"dataset {name!r}: {len(ids)} ids but {len(labels)} labels")
    if len(set(ids)) != len(ids) or not all(isinstance(i, str) for i in ids):
        raise ContractViolation("dataset.samples", f"dataset {name!r}: ids must be unique strings")
    if labels.dtype != torch.int64 or labels.ndim != 1:
        raise ContractViolation("dataset.samples", f"dataset {name!r}: labels are {labels.dtype}, expected int64 [N]")
    lo, hi = int(labels.min()), int(labels.max())
    if lo < 0 or hi >= spec.num_classes:
        raise ContractViolation(
            "dataset.samples", f"dataset {name!r}: labels span [{lo}, {hi}], outside [0, {spec.num_classes})"
        )
    positions = list(range(min(d.n, len(ids))))
    x = imageset.load(positions)
    expected = (len(positions), *_PRE.input_size)
    if tuple(x.shape) != expected or x.dtype != torch.float32:
        raise ContractViolation(
            "dataset.samples",
            f"dataset {name!r}: load() gave {x.dtype} {list(x.shape)}, expected float32 {list(expected)}",
        )
    if not bool(torch.isfinite(x).all()) or float(x.min()) < 0 or float(x.max()) > 1:
        raise ContractViolation(
            "dataset.samples",
            f"dataset {name!r}: load() gave pixels in [{float(x.min()):.4g}, {float(x.max()):.4g}], not [0, 1]",
        )
    again = imageset.load(positions[::-1])
    if not torch.equal(again, x.flip(0)):
        raise ContractViolation("dataset.samples", f"dataset {name!r}: load() depends on the order of positions")


def _model_classes(d: _Subject) -> int:
    if d.model_classes is not None:
        return d.model_classes
    spaces = d.spec.accepts or (d.spec.label_space,)
    for model in (d.host or default_host()).registries.models:
        if model.label_space in spaces:
            return model.num_classes
    raise ContractSkipped("dataset.score", f"no registered model has label space {spaces}; pass model_classes=")


def _score(d: _Subject) -> None:
    spec, name = d.spec, d.spec.name
    if spec.head is None:
        return  # logits are scored as they are
    head = resolve(spec.head)
    k = _model_classes(d)
    logits = torch.randn((4, k), generator=torch.Generator().manual_seed(0)).requires_grad_(True)
    out = head(logits)
    if not isinstance(out, torch.Tensor) or tuple(out.shape) != (4, spec.num_classes):
        shape = list(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__
        raise ContractViolation(
            "dataset.score",
            f"dataset {name!r}: head turned logits [4, {k}] into {shape}, expected [4, {spec.num_classes}]",
        )
    if not bool(torch.isfinite(out).all()):
        raise ContractViolation("dataset.score", f"dataset {name!r}: head returned NaN or inf")
    alone = head(logits[:1])
    if not torch.allclose(alone, out[:1], rtol=1e-5, atol=1e-6):
        raise ContractViolation("dataset.score", f"dataset {name!r}: head output of a row depends on the other rows")
    grad = None
    if out.requires_grad:
        (grad,) = torch.autograd.grad(out.logsumexp(1).sum(), logits, allow_unused=True)
    if grad is None or float(grad.abs().max()) == 0.0:
        raise ContractViolation(
            "dataset.score", f"dataset {name!r}: no gradient flows through the head (attacks attack the scored logits)"
        )


_CHECKS: dict[str, Callable[[_Subject], None]] = {
    "dataset.metadata": _metadata,
    "dataset.layout": _layout,
    "dataset.samples": _samples,
    "dataset.score": _score,
}


def check_dataset(
    spec: DatasetSpec,
    *,
    contracts: Iterable[str] | None = None,
    root: Path | str | None = None,
    model_classes: int | None = None,
    host: PluginHost | None = None,
    n: int = 8,
) -> dict[str, str]:
    """Check a dataset spec, its loader and its head against the dataset contracts.

    Args:
        spec: The dataset spec, as the plugin registers it.
        contracts: Contract names to run (default: every ``dataset.*`` contract).
        root: A (small) root to load samples from; default: shipped data, or the
            configured root (``dataset.samples`` is skipped without one).
        model_classes: Logits of the models it scores (default: from a registered model).
        host: Plugin host whose models give ``model_classes``.
        n: Samples loaded.

    Returns:
        ``{contract: "ok" | "skipped: why"}`` in check order.

    Raises:
        ContractViolation: On the first broken contract, naming it and the value.
    """
    subject = _Subject(spec, Path(root) if root is not None else None, model_classes, host, n)
    return run_contracts("dataset", contracts, lambda name: _CHECKS[name](subject))

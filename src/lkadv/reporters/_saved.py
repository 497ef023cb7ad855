"""The gallery's examples, read from a run directory's example store (``lkadv run --save-examples N``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from lkadv.metrics import Summary
from lkadv.reporters._gallery import Example
from lkadv.store import ExampleSet, ExampleStore, cell_examples_key

__all__ = ["saved_examples"]


def _hwc(images: np.ndarray) -> np.ndarray:
    """NCHW as N x H x W x C (one channel kept as H x W x 1)."""
    return np.ascontiguousarray(np.transpose(images, (0, 2, 3, 1)))


def saved_examples(run_dir: Path, summary: Summary, per_cell: int = 4) -> list[Example]:
    """The first ``per_cell`` saved examples of each attack cell of the run (none when nothing was saved).

    Only examples whose clean images were stored beside them are shown (the
    gallery puts the two side by side); each example's sample id and label are
    checked against the clean set.
    """
    store = ExampleStore(run_dir)
    out: list[Example] = []
    for cell in summary.cells:
        if cell.kind != "attack":
            continue
        adv, clean = store.get(cell_examples_key(cell.key, 0)), store.get(cell_examples_key(cell.key, 0, clean=True))
        if adv is None or clean is None:
            continue
        out += _examples(cell.model, cell.label, adv, clean, per_cell)
    return out


def _examples(model: str, threat: str, adv: ExampleSet, clean: ExampleSet, count: int) -> list[Example]:
    if list(adv.ids) != list(clean.ids) or not np.array_equal(adv.labels, clean.labels):
        return []  # not the same samples: show nothing rather than a wrong pair
    originals, adversarials = _hwc(clean.images), _hwc(adv.images)
    return [
        Example(
            model=model,
            threat=threat,
            sample_id=adv.ids[i],
            label=int(adv.labels[i]),
            original=originals[i],
            adversarial=adversarials[i],
            pred_original=int(clean.source_pred[i]),
            pred_adversarial=int(adv.source_pred[i]),
        )
        for i in range(min(count, len(adv.ids)))
    ]

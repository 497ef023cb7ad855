"""Per-sample rows of a run, read from the ledger: one per (cell, sample), ready for pandas."""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

from lkadv.store._ledger import Ledger

__all__ = ["SAMPLE_COLUMNS", "sample_rows"]

SAMPLE_COLUMNS = (
    "run_id",
    "cell",
    "model",
    "family",
    "kind",
    "threat",
    "threat_id",
    "eps",
    "severity",
    "index",
    "sample_id",
    "label",
    "pred",
    "correct",
    "margin",
    "attacked",
    "perturbation",
    "broken_by",
)
"""The fields of each row, in order. ``index`` is the sample's position in the run's
subset; ``label`` is in the dataset's label space (None in ledgers written before
labels were stored); ``margin`` is the true-class logit minus the best other one
(None where not attacked in an attack cell); ``perturbation`` is the norm of the
sample's last adversarial example (the one that broke it, if any) in the threat's
norm; ``broken_by`` is the attack stage that broke it (empty: not broken)."""


def _float(value: Any) -> float | None:
    v = float(value)
    return None if math.isnan(v) else v


def sample_rows(ledger: Ledger, run_id: int | None = None) -> Iterator[dict[str, Any]]:
    """Every stored per-sample outcome of a run's cells, in plan order then sample order.

    Args:
        ledger: An open ledger.
        run_id: The run (default: the latest).

    Yields:
        Dicts with the keys of :data:`SAMPLE_COLUMNS`.
    """
    run = ledger.run(run_id)
    digest = run["plan"]["subset"]["digest"]
    ids = ledger.subset_ids(digest)
    labels = ledger.subset_labels(digest)
    for cell in ledger.cells(run["id"]):
        fixed = {
            "run_id": run["id"],
            "cell": cell.key,
            "model": cell.model,
            "family": cell.family,
            "kind": cell.threat_kind,
            "threat": cell.threat_label,
            "threat_id": cell.threat_id,
            "eps": cell.threat.get("eps"),
            "severity": cell.threat.get("severity"),
        }
        for unit in ledger.units(cell.key):
            out = ledger.outcomes(cell.key, unit["start"], unit["stop"])
            norms = out.extras.get("perturbation")
            stages = out.extras.get("broken_by")
            for i in range(len(out)):
                index = unit["start"] + i
                yield {
                    **fixed,
                    "index": index,
                    "sample_id": ids[index] if index < len(ids) else None,
                    "label": labels[index] if labels is not None else None,
                    "pred": int(out.pred[i]),
                    "correct": bool(out.correct[i]),
                    "margin": _float(out.margin[i]),
                    "attacked": bool(out.attacked[i]),
                    "perturbation": _float(norms[i]) if norms is not None and norms[i] is not None else None,
                    "broken_by": str(stages[i]) if stages is not None else "",
                }

"""Report sections read from the per-sample outcomes: a paired test of two models, per-class accuracy.

Both need the ledger (the summary holds counts, not samples), so ``lkadv report``
asks for them (``--pair A,B``, ``--per-class THREAT``) and every format shows them.
"""

from __future__ import annotations

from typing import Any

from lkadv.errors import ConfigError
from lkadv.metrics import ReportSection, Summary, accuracy, paired_test

__all__ = ["interval_text", "pair_section", "per_class_section"]


def interval_text(low: float, high: float) -> str:
    """A 95% interval of a proportion, in percent: ``[82.1, 88.0]``."""
    return f"[{100 * low:.1f}, {100 * high:.1f}]"


def _model(summary: Summary, name: str, option: str) -> str:
    models = [m for m, _ in summary.models]
    if name not in models:
        raise ConfigError(f"{option}: no model {name!r} in this run; its models: {', '.join(models)}")
    return name


def pair_section(summary: Summary, ledger: Any, first: str, second: str) -> ReportSection:
    """Two models on every threat both finished: accuracies, intervals, the difference, exact McNemar.

    Args:
        summary: The run.
        ledger: Its open ledger (the per-sample outcomes).
        first: Model A.
        second: Model B.

    Raises:
        ConfigError: If a model is not in the run, or both names are the same.
    """
    a, b = _model(summary, first, "--pair"), _model(summary, second, "--pair")
    if a == b:
        raise ConfigError(f"--pair {a},{b}: give two different models")
    rows: list[list[Any]] = []
    for column in summary.columns:
        ca, cb = summary.cell(a, column), summary.cell(b, column)
        if ca is None or cb is None or ca.status != "done" or cb.status != "done":
            continue
        oa, ob = ledger.outcomes(ca.key), ledger.outcomes(cb.key)
        if len(oa) == 0 or len(oa) != len(ob):
            continue
        test = paired_test(oa.correct, ob.correct)
        ea, eb = accuracy(oa.correct), accuracy(ob.correct)
        rows.append(
            [
                column,
                round(100 * ea.value, 2),
                interval_text(ea.low, ea.high),
                round(100 * eb.value, 2),
                interval_text(eb.low, eb.high),
                round(100 * test.delta, 2),
                test.only_a,
                test.only_b,
                f"{test.p_value:.3g}",  # a string: tiny p-values keep their exponent in every format
            ]
        )
    return ReportSection(
        title=f"paired comparison: {b} vs {a} (accuracy, %, same samples)",
        columns=["threat", a, f"{a} 95% CI", b, f"{b} 95% CI", f"{b} - {a} (pp)", f"only {a}", f"only {b}", "p"],
        rows=rows,
        notes=[
            "p: two-sided exact McNemar test on the samples exactly one of the two models gets right; "
            "95% CI: Wilson score interval",
            *([] if rows else [f"no threat finished for both {a} and {b} on the same samples"]),
        ],
        key=f"pair:{a},{b}",
    )


def per_class_section(
    summary: Summary, ledger: Any, threat: str, class_names: list[str] | None = None
) -> ReportSection:
    """Accuracy per true class of every model at one threat, with Wilson intervals.

    Args:
        summary: The run.
        ledger: Its open ledger (outcomes and the subset's labels).
        threat: A column label of the run (``clean``, ``pgd@2/255``).
        class_names: Names of the classes (default: their numbers).

    Raises:
        ConfigError: If the run has no such column, or its ledger holds no labels.
    """
    if threat not in summary.columns:
        raise ConfigError(f"--per-class: no threat {threat!r} in this run; its threats: {', '.join(summary.columns)}")
    labels = ledger.subset_labels(summary.subset.get("digest", ""))
    if labels is None:
        raise ConfigError("--per-class: this run's ledger holds no sample labels (written by an older lkadv)")
    classes = sorted(set(labels))
    models = []
    per_model: dict[str, list[list[bool]]] = {}
    for model, _ in summary.models:
        cell = summary.cell(model, threat)
        if cell is None or cell.status != "done":
            continue
        correct = ledger.outcomes(cell.key).correct
        if len(correct) != len(labels):
            continue
        models.append(model)
        per_model[model] = [[bool(c) for c, y in zip(correct, labels, strict=True) if y == k] for k in classes]
    rows: list[list[Any]] = []
    for i, k in enumerate(classes):
        name = class_names[k] if class_names is not None and 0 <= k < len(class_names) else str(k)
        row: list[Any] = [name, sum(1 for y in labels if y == k)]
        for model in models:
            est = accuracy(per_model[model][i])
            row.append(f"{100 * est.value:.1f} {interval_text(est.low, est.high)}")
        rows.append(row)
    return ReportSection(
        title=f"per-class accuracy at {threat}, % [95% Wilson interval]",
        columns=["class", "samples", *models],
        rows=rows,
        notes=[f"a cell is a model at {threat}, restricted to the samples of one true class"],
        key=f"per-class:{threat}",
    )

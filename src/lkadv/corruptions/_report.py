"""Report sections of a run with corruption cells: per-corruption errors and the mCE table.

Every title says which form its figures take: normalized (by whom), relative,
or unnormalized (over 15 or 19 corruptions).
"""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING, Any

from lkadv.corruptions._protocol import describe_protocol
from lkadv.metrics import (
    ALEXNET_CLEAN_ERROR,
    EXTRA_CORRUPTIONS,
    STANDARD_CORRUPTIONS,
    ReportSection,
    Summary,
    alexnet_baseline,
    mean_ce,
    mean_corruption_accuracy,
    mean_error,
    relative_mean_ce,
    severity_curve,
)

if TYPE_CHECKING:
    from lkadv.store import Ledger

__all__ = ["corruption_sections", "model_errors"]

IMAGENET = "imagenet-1k"
_ORDER = {n: i for i, n in enumerate((*STANDARD_CORRUPTIONS, *EXTRA_CORRUPTIONS))}


def model_errors(summary: Summary) -> tuple[dict[str, dict[str, dict[int, float]]], dict[str, float]]:
    """Finished corruption errors ``{model: {corruption: {severity: error}}}`` and clean errors by model."""
    errors: dict[str, dict[str, dict[int, float]]] = {}
    clean: dict[str, float] = {}
    for cell in summary.cells:
        if cell.status != "done" or cell.accuracy is None:
            continue
        if cell.kind == "clean":
            clean[cell.model] = 1.0 - cell.accuracy.value
        elif cell.kind == "corruption" and cell.severity is not None:
            errors.setdefault(cell.model, {}).setdefault(cell.name, {})[int(cell.severity)] = 1.0 - cell.accuracy.value
    return errors, clean


def _pct(v: float | None) -> float | None:
    return None if v is None else round(100 * v, 2)


def _resolutions(ledger: Ledger, run_id: int) -> dict[str, str]:
    out: dict[str, str] = {}
    for row in ledger.cells(run_id):
        pre = str(row.spec.get("preprocessing", ""))
        out.setdefault(row.model, pre.split("-", 1)[0])
    return out


def corruption_sections(summary: Summary, ledger: Ledger | None = None) -> list[ReportSection]:
    """The per-corruption table, the mCE table and their notes (empty without corruption cells)."""
    errors, clean = model_errors(summary)
    if not errors:
        return []
    plan = summary.run.get("plan", {})
    models = [m for m, _ in summary.models if m in errors]
    names = sorted({n for e in errors.values() for n in e}, key=lambda n: _ORDER.get(n, len(_ORDER)))
    # Runs made before the protocol was an option scored float images.
    protocol = plan.get("options", {}).get("corruption_protocol", "float")
    sections = [_per_corruption(errors, models, names)]
    sections[0].notes.append(f"corruption protocol: {protocol} ({describe_protocol(protocol)})")
    sections.append(_mce_table(errors, clean, models, plan))
    sections.append(_curves(errors, models, names))
    notes = _flags(errors, models, names)
    if ledger is not None:
        sizes = _resolutions(ledger, summary.run["id"])
        other = sorted({f"{m}: {s}" for m, s in sizes.items() if m in errors and not s.endswith("x224x224")})
        if other:
            notes.append(
                "resolution: corruptions ran at the models' native sizes, not 224 px ("
                + ", ".join(other)
                + "); 224-px severity parameters were carried over by lkadv's rule "
                "(per-pixel ones as they are, spatial ones supersampled or with lengths scaled by side/224)"
            )
    sections[-1].notes.extend(notes)
    return sections


def _per_corruption(
    errors: dict[str, dict[str, dict[int, float]]], models: list[str], names: list[str]
) -> ReportSection:
    rows = []
    for name in names:
        kind = "standard" if name in STANDARD_CORRUPTIONS else "extra" if name in EXTRA_CORRUPTIONS else "other"
        row: list[Any] = [name, kind]
        for model in models:
            table = errors[model].get(name)
            row.append(_pct(sum(table.values()) / len(table)) if table else None)
        rows.append(row)
    return ReportSection(
        title="Corruption error, unnormalized, % (mean over the run's severities)",
        columns=["corruption", "set", *models],
        rows=rows,
        key="corruption-errors",
    )


def _normalizer(
    errors: dict[str, dict[str, dict[int, float]]], clean: dict[str, float], plan: dict[str, Any], notes: list[str]
) -> tuple[dict[str, dict[int, float]] | None, float | None, str]:
    """``(baseline errors, baseline clean error, how it is named)``: the run's baseline model, else AlexNet."""
    baseline_model = plan.get("mce_baseline")
    label_space = plan.get("label_space")
    if baseline_model and baseline_model in errors:
        return errors[baseline_model], clean.get(baseline_model), f"by {baseline_model} (baseline model of this run)"
    if label_space == IMAGENET:
        return alexnet_baseline(STANDARD_CORRUPTIONS), ALEXNET_CLEAN_ERROR, "by AlexNet (published ImageNet-C errors)"
    notes.append(
        f"no mCE baseline: label space {label_space!r} is not ImageNet's and no baseline model ran; "
        "name one with --mce-baseline"
    )
    return None, None, "not normalized"


def _mce_table(
    errors: dict[str, dict[str, dict[int, float]]], clean: dict[str, float], models: list[str], plan: dict[str, Any]
) -> ReportSection:
    notes: list[str] = []
    baseline, base_clean, by = _normalizer(errors, clean, plan, notes)
    present = [n for n in STANDARD_CORRUPTIONS if all(n in errors[m] for m in models)]
    extra = [n for n in EXTRA_CORRUPTIONS if all(n in errors[m] for m in models)]
    if len(present) < len(STANDARD_CORRUPTIONS):
        notes.append(f"mCE and mean error over {len(present)} of the 15 standard corruptions (the others did not run)")
    columns = ["model", f"mCE, normalized {by}, %", f"relative mCE, {by}, %", "mean error /15, unnormalized, %"]
    columns += ["mean error /19, unnormalized, %", "mean corruption accuracy /19, %", "clean error, %"]
    rows: list[list[Any]] = []
    for model in models:
        own = errors[model]
        mce = rel = None
        if baseline is not None and present:
            try:
                mce = mean_ce(own, baseline, present)
                if base_clean is not None and model in clean:
                    rel = relative_mean_ce(own, clean[model], baseline, base_clean, present)
            except (KeyError, ZeroDivisionError) as exc:
                notes.append(f"{model}: mCE not computed ({exc})")
        all19 = present + extra
        rows.append(
            [
                model,
                _pct(mce),
                _pct(rel),
                _pct(mean_error(own, present)) if present else None,
                _pct(mean_error(own, all19)) if len(all19) == 19 else None,
                _pct(mean_corruption_accuracy(own, all19)) if len(all19) == 19 else None,
                _pct(clean.get(model)),
            ]
        )
    if baseline is not None:
        notes.append(f"CE per corruption = the model's summed error / the baseline's; normalized {by}")
    protocol = plan.get("options", {}).get("corruption_protocol", "float")
    if plan.get("mce_baseline") is None and plan.get("label_space") == IMAGENET and protocol != "released":
        notes.append(
            f"AlexNet's errors were measured on the released ImageNet-C files (8-bit JPEG); this run's "
            f"corruption protocol is {protocol!r}, so its normalized mCE is not the published protocol's "
            "(use --corruption-protocol released)"
        )
    return ReportSection(
        title=f"mCE over the 15 standard corruptions ({by})", columns=columns, rows=rows, notes=notes, key="mce"
    )


def _curves(errors: dict[str, dict[str, dict[int, float]]], models: list[str], names: list[str]) -> ReportSection:
    rows = []
    sevs: set[int] = set()
    curves = {}
    for model in models:
        own = [n for n in names if n in errors[model]]
        curves[model] = severity_curve(errors[model], own)
        sevs |= set(curves[model])
    order = sorted(sevs)
    for model in models:
        rows.append([model, *(_pct(curves[model].get(s)) for s in order)])
    return ReportSection(
        title="Error by severity, unnormalized, % (mean over the run's corruptions)",
        columns=["model", *(f"severity {s}" for s in order)],
        rows=rows,
        key="severity-curves",
    )


def _flags(errors: dict[str, dict[str, dict[int, float]]], models: list[str], names: list[str]) -> list[str]:
    """Where error does not grow with severity (a drop of more than 1 point), per model and corruption."""
    flags = []
    for model in models:
        for name in names:
            table = errors[model].get(name)
            if not table:
                continue
            sevs = sorted(table)
            drops = [f"{a}->{b}" for a, b in itertools.pairwise(sevs) if table[b] < table[a] - 0.01]
            if drops:
                flags.append(f"FLAG {model} / {name}: error does not grow with severity ({', '.join(drops)})")
    return flags

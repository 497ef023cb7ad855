"""The shared shape of every report: rows of models, columns of threats, and footnotes."""

from __future__ import annotations

from lkadv.metrics import CellResult, Summary, wilson_interval

__all__ = ["MAX_CORRUPTION_COLUMNS", "cell_text", "footnotes", "main_table", "threat_configs"]

# Beyond this many corruption columns (19 corruptions x 5 severities = 95) the main
# table stops being readable; they fold into one mean-accuracy column and the
# corruption sections carry the detail.
MAX_CORRUPTION_COLUMNS = 10


def _ci(k: int, n: int) -> str:
    """A compact 95% Wilson interval in percent (`` [82.1-88.0]``)."""
    low, high = wilson_interval(k, n)
    return f" [{100 * low:.1f}-{100 * high:.1f}]"


def cell_text(cell: CellResult | None, interval: bool = False) -> str:
    """A cell's accuracy in percent, marked when partial, failed or missing; with ``interval``, its 95% interval."""
    if cell is None:
        return "-"
    if cell.status == "failed":
        return "failed"
    stage = f" (stage {cell.stage[0]}/{cell.stage[1]})" if cell.stage and cell.stage[1] else ""
    if cell.accuracy is None:
        return f"pending{stage}"
    text = f"{100 * cell.accuracy.value:.1f}"
    ci = _ci(cell.accuracy.k, cell.accuracy.n) if interval and cell.accuracy.n else ""
    return f"{text}{ci}" if cell.status == "done" else f"{text}*{ci}{stage}"


def _mean_text(cells: list[CellResult], interval: bool = False) -> str:
    done = [c for c in cells if c.accuracy is not None and c.status != "failed"]
    if not done:
        return "failed" if any(c.status == "failed" for c in cells) else "pending"
    k = sum(c.accuracy.k for c in done if c.accuracy is not None)
    n = sum(c.accuracy.n for c in done if c.accuracy is not None)
    text = f"{100 * k / max(n, 1):.1f}"
    complete = len(done) == len(cells) and all(c.status == "done" for c in done)
    ci = _ci(k, n) if interval and n else ""
    return f"{text}{ci}" if complete else f"{text}*{ci}"


def main_table(summary: Summary, intervals: bool = False) -> tuple[list[str], list[list[str]]]:
    """Column labels and, per model, the cell texts of the main table.

    Corruption columns fold into one ``corruptions (mean)`` column (sample-weighted
    mean accuracy over every corruption and severity) when there are more than
    :data:`MAX_CORRUPTION_COLUMNS` of them. With ``intervals``, each accuracy is
    followed by its 95% Wilson interval (the pooled one for the folded mean).

    Returns:
        ``(columns, rows)``; each row is ``[model, family, *cells]``.
    """
    kinds = {c.label: c.kind for c in summary.cells}
    corruption_columns = [c for c in summary.columns if kinds.get(c) == "corruption"]
    fold = len(corruption_columns) > MAX_CORRUPTION_COLUMNS
    columns: list[str] = []
    for column in summary.columns:
        if fold and kinds.get(column) == "corruption":
            if "corruptions (mean)" not in columns:
                columns.append("corruptions (mean)")
            continue
        columns.append(column)
    rows = []
    for model, family in summary.models:
        row = [model, family]
        for column in columns:
            if column == "corruptions (mean)":
                cells = [c for c in summary.cells if c.model == model and c.kind == "corruption"]
                row.append(_mean_text(cells, intervals))
            else:
                row.append(cell_text(summary.cell(model, column), intervals))
        rows.append(row)
    return columns, rows


def threat_configs(summary: Summary) -> dict[str, str]:
    """Full configuration behind each compact attack/corruption name (``pgd`` -> ``pgd[norm=linf,...]``)."""
    out: dict[str, str] = {}
    for cell in summary.cells:
        if cell.kind != "clean":
            family = cell.threat_id.rsplit("@", 1)[0]
            out.setdefault(cell.label.split("@", 1)[0], family)
    return out


def footnotes(summary: Summary) -> list[str]:
    """Lines printed under a table: sample counts, configurations, merge checks, failures."""
    lines = list(summary.notes)
    for short, full in threat_configs(summary).items():
        lines.append(f"{short} = {full}")
    merged = {c.model: c.info for c in summary.cells if c.info.get("merged")}
    for model, info in merged.items():
        lines.append(
            f"{model}: re-parameterized at load; merged vs unmerged logits differ by "
            f"{info.get('reparam_rel_err', float('nan')):.2e} of the logit scale (tolerance {info.get('reparam_rtol')})"
        )
    n_corruption = len({c.label for c in summary.cells if c.kind == "corruption"})
    if n_corruption > MAX_CORRUPTION_COLUMNS:
        lines.append(
            f"corruptions (mean) = accuracy over all {n_corruption} corruption x severity cells; "
            "the corruption tables below give each one"
        )
    if any(c.accuracy is not None and c.accuracy.n for c in summary.cells):
        lines.append("[a-b]: 95% Wilson score interval of the accuracy, in %")
    if any(c.status not in ("done", "failed") and c.accuracy is not None for c in summary.cells):
        lines.append("* partial: accuracy over the finished shards only")
    for cell in summary.cells:
        if cell.status == "failed":
            lines.append(f"FAILED {cell.model} / {cell.label}: {cell.info.get('error', 'unknown error')}")
    return lines

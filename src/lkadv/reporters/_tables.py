"""The shared shape of every report: rows of models, columns of threats, and footnotes."""

from __future__ import annotations

from lkadv.metrics import CellResult, Summary

__all__ = ["cell_text", "footnotes", "threat_configs"]


def cell_text(cell: CellResult | None) -> str:
    """A cell's accuracy in percent, marked when partial, failed or missing."""
    if cell is None:
        return "-"
    if cell.status == "failed":
        return "failed"
    if cell.accuracy is None:
        return "pending"
    text = f"{100 * cell.accuracy.value:.1f}"
    return text if cell.status == "done" else f"{text}*"


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
    if any(c.status not in ("done", "failed") and c.accuracy is not None for c in summary.cells):
        lines.append("* partial: accuracy over the finished shards only")
    for cell in summary.cells:
        if cell.status == "failed":
            lines.append(f"FAILED {cell.model} / {cell.label}: {cell.info.get('error', 'unknown error')}")
    return lines

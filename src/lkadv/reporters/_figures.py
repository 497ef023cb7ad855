"""The report's figures, drawn with matplotlib from a Summary: heat map, robustness curves, corruption plots.

Each figure is described by a :class:`Plot` (its key, title and the number of
data points it draws) and drawn on demand, so the page can inline it as SVG and
``--plots DIR`` can write it as SVG and PNG. Matplotlib is used without pyplot
(no global figure state, no GUI backend), with text kept as SVG text (small
files, searchable, escaped by matplotlib's XML writer) and math parsing off (a
``$`` in a model name is a dollar sign); outside text is drawn with its control
characters shown as escapes (XML cannot hold them).
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from lkadv._text import printable
from lkadv.metrics import CellResult, Summary

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["Plot", "family_colours", "plots", "to_png", "to_svg", "write_plots"]

# Colour-blind-safe (Okabe-Ito, then tab10's extra hues): one colour per family in a report.
_PALETTE = (
    "#0072B2",
    "#E69F00",
    "#009E73",
    "#CC79A7",
    "#D55E00",
    "#56B4E9",
    "#F0E442",
    "#000000",
    "#8c564b",
    "#7f7f7f",
)
DATA_GID = "lk-data"  # every artist drawing data carries this id prefix (the browser test counts them)


@dataclass(frozen=True)
class Plot:
    """A figure of the report, drawn on demand.

    Attributes:
        key: File stem and anchor (``heatmap``, ``curves-pgd``...).
        title: Caption.
        points: Data points the figure draws (0: nothing to show, so it is left out).
        draw: Builds the matplotlib figure.
        values: The numbers drawn, by series and point (for tests and for readers of ``--plots``).
    """

    key: str
    title: str
    points: int
    draw: Callable[[], Figure]
    values: dict[str, dict[str, float]] = field(default_factory=dict)


def family_colours(summary: Summary) -> dict[str, str]:
    """One colour per model family, the same in every figure and table of a report."""
    families = sorted({family for _, family in summary.models})
    return {family: _PALETTE[i % len(_PALETTE)] for i, family in enumerate(families)}


def _rc(key: str) -> Any:  # matplotlib types its keys as literals
    return {
        "svg.fonttype": "none",
        "svg.hashsalt": key,  # deterministic ids, distinct between the figures of one page
        "text.parse_math": False,
        "font.size": 9,
        "axes.spines.top": False,
        "axes.spines.right": False,
    }


def to_svg(plot: Plot) -> str:
    """The figure as an SVG element ready to inline in HTML (no XML prolog or doctype)."""
    import matplotlib

    with matplotlib.rc_context(_rc(plot.key)):
        fig = plot.draw()
        buf = io.StringIO()
        fig.savefig(buf, format="svg", bbox_inches="tight", metadata={"Date": None})
    text = buf.getvalue()
    return text[text.index("<svg") :]


def to_png(plot: Plot, dpi: int = 150) -> bytes:
    """The figure as a PNG image."""
    import matplotlib

    with matplotlib.rc_context(_rc(plot.key)):
        fig = plot.draw()
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight", metadata={"Software": None})
    return buf.getvalue()


def _figure(width: float, height: float) -> Figure:
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), layout="constrained")


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "x"


def _done(cell: CellResult | None) -> bool:
    return cell is not None and cell.accuracy is not None and cell.accuracy.n > 0 and cell.status != "failed"


def plots(summary: Summary, large_kernel: frozenset[str] = frozenset()) -> list[Plot]:
    """Every figure the run's data supports, in page order (figures without data are left out).

    Args:
        summary: The run.
        large_kernel: Models to mark as large-kernel ConvNets.
    """
    colours = family_colours(summary)
    out = [_heatmap(summary), *_curves(summary, colours, large_kernel), *_corruption_plots(summary, colours)]
    return [p for p in out if p.points > 0]


def _heat_columns(summary: Summary) -> list[str]:
    kinds = {c.label: c.kind for c in summary.cells}
    corruption = [c for c in summary.columns if kinds.get(c) == "corruption"]
    # Beyond ten corruption columns the corruption figures carry them (as the main table folds them).
    return [c for c in summary.columns if kinds.get(c) != "corruption" or len(corruption) <= 10]


def _heatmap(summary: Summary) -> Plot:
    models = [m for m, _ in summary.models]
    columns = _heat_columns(summary)
    points = sum(_done(summary.cell(m, c)) for m in models for c in columns)

    def draw() -> Figure:
        import numpy as np

        values = np.full((len(models), len(columns)), np.nan)
        fig = _figure(1.6 + 1.25 * len(columns), 0.9 + 0.5 * len(models))
        ax = fig.add_subplot()
        for i, m in enumerate(models):
            for j, c in enumerate(columns):
                cell = summary.cell(m, c)
                if _done(cell) and cell is not None and cell.accuracy is not None:
                    est = cell.accuracy
                    values[i, j] = 100 * est.value
                    text = f"{100 * est.value:.1f}\n[{100 * est.low:.1f}, {100 * est.high:.1f}]"
                    colour = "white" if est.value < 0.55 else "black"
                    ax.text(j, i, text, ha="center", va="center", fontsize=7, color=colour)
        mesh = ax.pcolormesh(
            np.arange(len(columns) + 1) - 0.5,
            np.arange(len(models) + 1) - 0.5,
            values,
            cmap="viridis",
            vmin=0,
            vmax=100,
        )
        mesh.set_gid(f"{DATA_GID}-heatmap")
        ax.set_xticks(range(len(columns)), [printable(c) for c in columns], rotation=30, ha="right")
        ax.set_yticks(range(len(models)), [printable(m) for m in models])
        ax.invert_yaxis()
        fig.colorbar(mesh, ax=ax, label="accuracy, % (95% Wilson interval)")
        return fig

    return Plot("heatmap", "accuracy, models x threats, % (cell: value and 95% Wilson interval)", points, draw)


def _attack_families(summary: Summary) -> dict[str, list[str]]:
    """Attack columns grouped by their name without eps (``pgd``, ``pgd(steps=50)``), in plan order."""
    out: dict[str, list[str]] = {}
    for column in summary.columns:
        cells = [c for c in summary.cells if c.label == column and c.kind == "attack" and c.eps is not None]
        if cells:
            out.setdefault(column.split("@", 1)[0], []).append(column)
    return out


def _curves(summary: Summary, colours: dict[str, str], large_kernel: frozenset[str]) -> list[Plot]:
    out = []
    for name, columns in _attack_families(summary).items():
        series = _curve_series(summary, columns)
        points = sum(len(xs) for xs, _, _, _ in series.values())
        out.append(
            Plot(
                f"curves-{_slug(name)}",
                f"robustness curve: {name}, accuracy (%) vs eps, 95% Wilson band; eps 0 is clean accuracy",
                points,
                _curve_drawer(name, series, summary, colours, large_kernel, _eps_ticks(summary, columns)),
            )
        )
    return out


Series = dict[str, tuple[list[float], list[float], list[float], list[float]]]


def _curve_series(summary: Summary, columns: list[str]) -> Series:
    series: Series = {}
    for model, _ in summary.models:
        xs: list[float] = []
        ys: list[float] = []
        lows: list[float] = []
        highs: list[float] = []
        clean = summary.cell(model, "clean")
        cells = [summary.cell(model, c) for c in columns]
        if clean is not None and clean.kind == "clean":
            cells.insert(0, clean)
        for cell in cells:
            if _done(cell) and cell is not None and cell.accuracy is not None:
                xs.append(0.0 if cell.kind == "clean" else float(cell.eps or 0.0))
                ys.append(100 * cell.accuracy.value)
                lows.append(100 * cell.accuracy.low)
                highs.append(100 * cell.accuracy.high)
        if any(x > 0 for x in xs):
            series[model] = (xs, ys, lows, highs)
    return series


def _eps_ticks(summary: Summary, columns: list[str]) -> dict[float, str]:
    """Each eps of an attack with the label its columns give it (``2/255``), and 0 for clean."""
    ticks = {0.0: "0"}
    for column in columns:
        cell = next((c for c in summary.cells if c.label == column and c.eps is not None), None)
        if cell is not None and cell.eps is not None:
            ticks[float(cell.eps)] = column.split("@", 1)[1] if "@" in column else f"{cell.eps:g}"
    return ticks


def _curve_drawer(
    name: str,
    series: Series,
    summary: Summary,
    colours: dict[str, str],
    large_kernel: frozenset[str],
    ticks: dict[float, str],
) -> Callable[[], Figure]:
    families = dict(summary.models)

    def draw() -> Figure:
        fig = _figure(6.4, 3.8)
        ax = fig.add_subplot()
        for i, (model, (xs, ys, lows, highs)) in enumerate(series.items()):
            colour = colours.get(families.get(model, ""), "#444444")
            big = model in large_kernel
            label = printable(f"{model} (large kernel)" if big else model)
            (line,) = ax.plot(
                xs, ys, marker="D" if big else "o", linewidth=2.4 if big else 1.2, color=colour, label=label
            )
            line.set_gid(f"{DATA_GID}-line-{i}")
            ax.fill_between(xs, lows, highs, color=colour, alpha=0.12, linewidth=0)
        ax.set_xlabel(printable(f"eps ({name})"))
        ax.set_xticks(list(ticks), [printable(t) for t in ticks.values()], rotation=30, ha="right")
        ax.set_ylabel("accuracy, %")
        ax.set_ylim(-2, 102)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, loc="best", title="family colour; diamonds: large kernel", title_fontsize=7)
        return fig

    return draw


def _corruption_errors(summary: Summary) -> dict[str, dict[str, dict[int, float]]]:
    """Finished corruption errors, ``{corruption: {model: {severity: error %}}}``."""
    out: dict[str, dict[str, dict[int, float]]] = {}
    for cell in summary.cells:
        if cell.kind == "corruption" and cell.severity is not None and _done(cell) and cell.accuracy is not None:
            by_model = out.setdefault(cell.name, {}).setdefault(cell.model, {})
            by_model[int(cell.severity)] = 100 * (1 - cell.accuracy.value)
    return out


def _corruption_plots(summary: Summary, colours: dict[str, str]) -> list[Plot]:
    errors = _corruption_errors(summary)
    if not errors:
        return []
    points = sum(len(s) for by_model in errors.values() for s in by_model.values())
    return [
        Plot(
            "corruption-severity",
            "corruption error (%, unnormalized) vs severity, per corruption",
            points,
            _severity_drawer(errors, summary, colours),
        ),
        _ce_bars(summary, errors, colours),
    ]


def _severity_drawer(
    errors: dict[str, dict[str, dict[int, float]]], summary: Summary, colours: dict[str, str]
) -> Callable[[], Figure]:
    families = dict(summary.models)

    def draw() -> Figure:
        names = list(errors)
        ncols = min(4, len(names))
        nrows = -(-len(names) // ncols)
        fig = _figure(2.2 * ncols + 1.0, 1.9 * nrows + 0.4)
        axes = fig.subplots(nrows, ncols, squeeze=False, sharey=True)
        for k, name in enumerate(names):
            ax: Axes = axes[k // ncols][k % ncols]
            for i, (model, table) in enumerate(errors[name].items()):
                sevs = sorted(table)
                (line,) = ax.plot(
                    sevs, [table[s] for s in sevs], marker="o", markersize=3, color=colours.get(families.get(model, ""))
                )
                line.set_gid(f"{DATA_GID}-{k}-{i}")
                line.set_label(printable(model))
            ax.set_title(printable(name), fontsize=8)
            ax.grid(alpha=0.3)
        for k in range(len(names), nrows * ncols):
            axes[k // ncols][k % ncols].set_visible(False)
        handles, labels = axes[0][0].get_legend_handles_labels()
        fig.legend(handles, labels, loc="outside lower center", ncols=min(4, len(labels)), fontsize=7)
        fig.supxlabel("severity")
        fig.supylabel("error, %")
        return fig

    return draw


def _baseline(summary: Summary, errors: dict[str, dict[str, dict[int, float]]]) -> tuple[str, dict[str, float]]:
    """The CE baseline's name and its summed-error weight per corruption and severity set.

    The run's baseline model when it ran the corruption; for ImageNet label spaces
    without one, AlexNet's published errors (looked up by corruption name).
    """
    plan = summary.run.get("plan", {})
    model = plan.get("mce_baseline")
    if model and any(model in by_model for by_model in errors.values()):
        return str(model), {}
    if plan.get("label_space") == "imagenet-1k":
        from lkadv.metrics import ALEXNET_ERRORS

        return "AlexNet (published ImageNet-C errors)", {k: 100 * v for k, v in ALEXNET_ERRORS.items()}
    return "", {}


def _ce_bars(summary: Summary, errors: dict[str, dict[str, dict[int, float]]], colours: dict[str, str]) -> Plot:
    """CE per corruption and model: summed error over the baseline's, on the model's severities."""
    baseline, constants = _baseline(summary, errors)
    names = [n for n in errors if (n in constants) or (not constants and baseline in errors[n])]
    models = [m for m, _ in summary.models if all(m in errors[n] for n in names) and m != baseline]
    ces: dict[str, list[float]] = {}
    for model in models:
        row = []
        for name in names:
            sevs = sorted(errors[name][model])
            if constants:
                base = constants[name] * len(sevs)
            else:
                base = sum(errors[name][baseline].get(s, float("nan")) for s in sevs)
            row.append(100 * sum(errors[name][model][s] for s in sevs) / base if base else float("nan"))
        ces[model] = row
    points = sum(len(v) for v in ces.values()) if names else 0
    families = dict(summary.models)

    def draw() -> Figure:
        import numpy as np

        fig = _figure(max(5.0, 0.55 * len(names) * max(1, len(models)) / 3 + 2), 3.6)
        ax = fig.add_subplot()
        width = 0.8 / max(1, len(models))
        for i, model in enumerate(models):
            bars = ax.bar(
                np.arange(len(names)) + i * width - 0.4 + width / 2,
                ces[model],
                width,
                color=colours.get(families.get(model, "")),
                label=printable(model),
            )
            for j, bar in enumerate(bars):
                bar.set_gid(f"{DATA_GID}-ce-{i}-{j}")
        ax.axhline(100, color="#666666", linewidth=0.8, linestyle="--")
        ax.set_xticks(range(len(names)), [printable(n) for n in names], rotation=35, ha="right")
        ax.set_ylabel(printable(f"CE, % of {baseline}"))
        ax.legend(fontsize=7, ncols=2)
        return fig

    values = {m: dict(zip(names, ces[m], strict=True)) for m in models}
    title = f"corruption error (CE, %) per corruption, normalized by baseline {baseline}"
    return Plot("ce-bars", title, points, draw, values)


def write_plots(summary: Summary, directory: Any, large_kernel: frozenset[str] = frozenset()) -> list[str]:
    """Write every figure of the report as ``KEY.svg`` and ``KEY.png`` into ``directory`` (created if missing).

    Each file is written under a temporary name and renamed, so an interrupted
    call leaves no half-written figure.

    Returns:
        The file names written, in page order.
    """
    from pathlib import Path

    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for plot in plots(summary, large_kernel):
        for suffix, data in ((".svg", to_svg(plot).encode("utf-8")), (".png", to_png(plot))):
            target = out / f"{plot.key}{suffix}"
            tmp = out / f".{plot.key}{suffix}.tmp"
            tmp.write_bytes(data)
            tmp.replace(target)
            written.append(target.name)
    return written

"""Live progress: a rich matrix of cells with an overall bar, or plain lines off a terminal."""

from __future__ import annotations

import sys
import time
from typing import IO, Any

from rich.console import Console, Group
from rich.live import Live
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table
from rich.text import Text

from lkadv._text import printable
from lkadv.executors._base import UnitOutcome
from lkadv.planner import Cell, Plan, Unit
from lkadv.reporters._escape import as_text

__all__ = ["LiveProgress", "PlainProgress", "make_progress"]


class _Tally:
    """Counts shared by both displays."""

    def __init__(self, plan: Plan, pending: set[tuple[str, int]]) -> None:
        self.plan = plan
        self.total_units = len(pending)
        self.total_samples = sum(plan.shard_bounds(s)[1] - plan.shard_bounds(s)[0] for _, s in pending)
        self.left: dict[str, int] = {}
        for key, _ in pending:
            self.left[key] = self.left.get(key, 0) + 1
        self.correct: dict[str, list[int]] = {}
        self.failed: dict[str, str] = {}
        self.units = 0
        self.samples = 0
        self.t0 = time.perf_counter()

    def add(self, unit: Unit, outcome: UnitOutcome) -> None:
        key = unit.cell.key
        self.left[key] -= 1
        k, n = self.correct.get(key, [0, 0])
        self.correct[key] = [k + int(outcome.outcomes.correct.sum()), n + len(outcome.outcomes)]
        self.units += 1
        self.samples += len(unit)

    def rate(self) -> float:
        return self.samples / max(time.perf_counter() - self.t0, 1e-9)


class LiveProgress:
    """A live models x threats matrix plus an overall bar with images/s and ETA.

    Args:
        console: Where to draw.
    """

    def __init__(self, console: Console | None = None) -> None:
        self.console = console or Console(stderr=True)
        self._live: Live | None = None
        self._tally: _Tally | None = None
        self._bar = Progress(
            TextColumn("[bold]overall"),
            BarColumn(),
            TaskProgressColumn(),
            TextColumn("{task.fields[rate]}"),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            console=self.console,
        )
        self._task: Any = None

    def start(self, plan: Plan, pending: set[tuple[str, int]]) -> None:
        """Begin drawing."""
        self._tally = _Tally(plan, pending)
        self._task = self._bar.add_task("run", total=max(self._tally.total_samples, 1), rate="")
        self._live = Live(self._render(), console=self.console, refresh_per_second=4, transient=True)
        self._live.start()

    def _matrix(self) -> Table:
        tally = self._tally
        assert tally is not None
        plan = tally.plan
        table = Table(box=None, header_style="bold", pad_edge=False)
        table.add_column("model")
        for threat in plan.threats:
            table.add_column(as_text(threat.label), justify="right")
        for model in plan.models:
            row: list[Text] = []
            for cell in (c for c in plan.cells if c.model.name == model.name):
                row.append(self._cell(cell, tally))
            table.add_row(as_text(model.name), *row)
        return table

    @staticmethod
    def _cell(cell: Cell, tally: _Tally) -> Text:
        if cell.key in tally.failed:
            return Text("failed", style="red")
        k, n = tally.correct.get(cell.key, [0, 0])
        left = tally.left.get(cell.key, 0)
        if left == 0 and n == 0:
            return Text("cached", style="dim")
        if n == 0:
            return Text(".", style="dim")
        acc = f"{100 * k / n:.1f}"
        return Text(acc, style="bold") if left == 0 else Text(f"{acc}~", style="yellow")

    def _render(self) -> Group:
        return Group(self._matrix(), self._bar)

    def advance(self, unit: Unit, outcome: UnitOutcome) -> None:
        """Update after a committed unit."""
        assert self._tally is not None
        assert self._live is not None
        self._tally.add(unit, outcome)
        self._bar.update(self._task, advance=len(unit), rate=f"{self._tally.rate():.0f} img/s")
        self._live.update(self._render())

    def failed(self, cell: Cell, error: str) -> None:
        """Mark a cell failed."""
        if self._tally is not None:
            self._tally.failed[cell.key] = error

    def stop(self) -> None:
        """Stop drawing."""
        if self._live is not None:
            self._live.stop()
            self._live = None


class PlainProgress:
    """One line per finished cell and a periodic overall line, for logs and pipes.

    Args:
        stream: Where to write.
        every: Seconds between overall lines.
    """

    def __init__(self, stream: IO[str] | None = None, every: float = 10.0) -> None:
        self.stream = stream or sys.stderr
        self.every = every
        self._tally: _Tally | None = None
        self._last = 0.0

    def _print(self, text: str) -> None:
        print(printable(text), file=self.stream, flush=True)

    def start(self, plan: Plan, pending: set[tuple[str, int]]) -> None:
        """Announce the work."""
        self._tally = _Tally(plan, pending)
        self._last = time.perf_counter()
        cached = len(plan.cells) * plan.n_shards - len(pending)
        self._print(f"lkadv: {len(plan.cells)} cells, {len(pending)} units to compute, {cached} reused")

    def advance(self, unit: Unit, outcome: UnitOutcome) -> None:
        """Report finished cells and, now and then, overall progress."""
        tally = self._tally
        assert tally is not None
        tally.add(unit, outcome)
        key = unit.cell.key
        if tally.left[key] == 0:
            k, n = tally.correct[key]
            self._print(
                f"  done {unit.cell.model.name} / {unit.cell.threat.label}: {100 * k / max(n, 1):.1f}% "
                f"of the {n} samples computed now"
            )
        now = time.perf_counter()
        if now - self._last >= self.every or tally.units == tally.total_units:
            self._last = now
            rate = tally.rate()
            eta = (tally.total_samples - tally.samples) / rate if rate > 0 else float("nan")
            pct = 100 * tally.samples / max(tally.total_samples, 1)
            self._print(f"[{pct:5.1f}%] {tally.units}/{tally.total_units} units, {rate:.0f} img/s, ETA {eta:.0f}s")

    def failed(self, cell: Cell, error: str) -> None:
        """Report a failed cell."""
        self._print(f"  FAILED {cell.model.name} / {cell.threat.label}: {error}")

    def stop(self) -> None:
        """Nothing to tear down."""


def make_progress(console: Console | None = None, quiet: bool = False) -> LiveProgress | PlainProgress | None:
    """The live display on a terminal or in a notebook (rich's Jupyter support), plain lines otherwise.

    Nothing when quiet.
    """
    if quiet:
        return None
    console = console or Console(stderr=True)
    return LiveProgress(console) if console.is_terminal or console.is_jupyter else PlainProgress(console.file)

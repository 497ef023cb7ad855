"""Live progress: a rich matrix of cells with an overall bar, or plain lines off a terminal."""

from __future__ import annotations

import sys
import time
from typing import IO, Any

from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn
from rich.text import Text

from lkadv._text import printable
from lkadv.executors import UnitOutcome
from lkadv.planner import Cell, Plan, Unit
from lkadv.reporters._escape import as_text
from lkadv.reporters._layout import split_table

__all__ = ["LiveProgress", "PlainProgress", "make_progress"]


class _Tally:
    """Counts and cost estimates shared by both displays.

    The ETA comes from measured costs, not from a mean rate: each finished unit
    gives seconds per sample for its cell; a pending unit is estimated from its
    own cell, else from finished cells of the same threat, else from all cells.
    A clean unit and an AutoAttack unit differ by orders of magnitude.
    """

    def __init__(
        self, plan: Plan, pending: set[tuple[str, int]], known: dict[str, tuple[int, int]] | None = None
    ) -> None:
        self.plan = plan
        self.cells = {c.key: c for c in plan.cells}
        self.pending = set(pending)
        self.total_units = len(pending)
        self.total_samples = sum(self._size(s) for _, s in pending)
        self.left: dict[str, int] = {}
        for key, _ in pending:
            self.left[key] = self.left.get(key, 0) + 1
        self.correct: dict[str, list[int]] = {k: list(v) for k, v in (known or {}).items()}
        self.fresh: dict[str, list[int]] = {}
        self.failed: dict[str, str] = {}
        self.units = 0
        self.samples = 0
        self.t0 = time.perf_counter()
        self.cost: dict[str, list[float]] = {}  # cell key -> [seconds, samples]
        self.running: str = ""

    def _size(self, shard: int) -> int:
        start, stop = self.plan.shard_bounds(shard)
        return stop - start

    def add(self, unit: Unit, outcome: UnitOutcome) -> None:
        key = unit.cell.key
        self.left[key] -= 1
        self.pending.discard((key, unit.shard))
        right, n = int(outcome.outcomes.correct.sum()), len(outcome.outcomes)
        for table in (self.correct, self.fresh):  # the cell's whole value, and what this run added
            k, m = table.get(key, [0, 0])
            table[key] = [k + right, m + n]
        spent = self.cost.setdefault(key, [0.0, 0.0])
        spent[0] += outcome.seconds
        spent[1] += len(unit)
        self.units += 1
        self.samples += len(unit)
        self.running = ""

    def rate(self) -> float:
        return self.samples / max(time.perf_counter() - self.t0, 1e-9)

    def _per_sample(self, key: str) -> float | None:
        own = self.cost.get(key)
        if own and own[1]:
            return own[0] / own[1]
        name = self.cells[key].threat.name
        same = [v for k, v in self.cost.items() if self.cells[k].threat.name == name and v[1]]
        pool = same or [v for v in self.cost.values() if v[1]]
        if not pool:
            return None
        return sum(v[0] for v in pool) / sum(v[1] for v in pool)

    def eta(self) -> float | None:
        """Seconds left, from the measured costs (None before the first unit)."""
        total = 0.0
        for key, shard in self.pending:
            per = self._per_sample(key)
            if per is None:
                return None
            total += per * self._size(shard)
        return total


def _eta_text(seconds: float | None) -> str:
    if seconds is None:
        return "ETA: measuring"
    minutes, sec = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"ETA {hours}:{minutes:02d}:{sec:02d}" if hours else f"ETA {minutes}:{sec:02d}"


class LiveProgress:
    """A live models x threats matrix, the running unit's stage and samples, and an overall bar with ETA.

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
            TextColumn("{task.fields[eta]}"),
            console=self.console,
        )
        self._task: Any = None
        self._workers: dict[str, str] = {}

    def start(self, plan: Plan, pending: set[tuple[str, int]], known: dict[str, tuple[int, int]] | None = None) -> None:
        """Begin drawing."""
        self._tally = _Tally(plan, pending, known)
        self._task = self._bar.add_task("run", total=max(self._tally.total_samples, 1), rate="", eta=_eta_text(None))
        self._live = Live(self._render(), console=self.console, refresh_per_second=4, transient=True)
        self._live.start()

    def _matrix(self) -> list[RenderableType]:
        tally = self._tally
        assert tally is not None
        plan = tally.plan
        header = [as_text("model"), *(as_text(t.label) for t in plan.threats)]
        rows = []
        for model in plan.models:
            cells = [self._cell(c, tally) for c in plan.cells if c.model.name == model.name]
            rows.append([as_text(model.name), *cells])
        return split_table(Text(""), header, rows, keys=1, width=self.console.width)

    @staticmethod
    def _cell(cell: Cell, tally: _Tally) -> Text:
        if cell.key in tally.failed:
            return Text("failed", style="red")
        k, n = tally.correct.get(cell.key, [0, 0])
        left = tally.left.get(cell.key, 0)
        if n == 0:
            return Text(".", style="dim")
        acc = f"{100 * k / n:.1f}"
        if left == 0 and cell.key not in tally.cost:
            return Text(acc, style="dim")  # stored by an earlier run: the value, dimmed
        return Text(acc, style="bold") if left == 0 else Text(f"{acc}~", style="yellow")

    def _render(self) -> Group:
        assert self._tally is not None
        running = as_text(self._tally.running, style="cyan") if self._tally.running else Text("")
        workers = [as_text(f"{name}: {text}", style="cyan") for name, text in self._workers.items()]
        return Group(*self._matrix(), *(workers or [running]), self._bar)

    def worker(self, name: str, text: str) -> None:
        """One line per worker of a multi-worker executor: its model, cell and rate."""
        self._workers[name] = text
        if self._live is not None:
            self._live.update(self._render())

    def step(self, unit: Unit, stage: str, stage_index: int, stages: int, done: int, total: int) -> None:
        """Show life inside a long unit: which cell, which stage, how many samples."""
        if self._tally is None or self._live is None:
            return
        part = f", stage {stage} ({stage_index + 1}/{stages})" if stages > 1 else ""
        self._tally.running = (
            f"running {unit.cell.model.name} / {unit.cell.threat.label}, shard {unit.shard + 1}/"
            f"{self._tally.plan.n_shards}{part}: {done}/{total} samples"
        )
        self._live.update(self._render())

    def advance(self, unit: Unit, outcome: UnitOutcome) -> None:
        """Update after a committed unit."""
        assert self._tally is not None
        assert self._live is not None
        self._tally.add(unit, outcome)
        rate, eta = f"{self._tally.rate():.0f} img/s", _eta_text(self._tally.eta())
        self._bar.update(self._task, advance=len(unit), rate=rate, eta=eta)
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

    def start(self, plan: Plan, pending: set[tuple[str, int]], known: dict[str, tuple[int, int]] | None = None) -> None:
        """Announce the work."""
        self._tally = _Tally(plan, pending, known)
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
            k, n = tally.fresh[key]
            self._print(
                f"  done {unit.cell.model.name} / {unit.cell.threat.label}: {100 * k / max(n, 1):.1f}% "
                f"of the {n} samples computed now"
            )
        now = time.perf_counter()
        if now - self._last >= self.every or tally.units == tally.total_units:
            self._last = now
            pct = 100 * tally.samples / max(tally.total_samples, 1)
            self._print(
                f"[{pct:5.1f}%] {tally.units}/{tally.total_units} units, {tally.rate():.0f} img/s, "
                f"{_eta_text(tally.eta())}"
            )

    def step(self, unit: Unit, stage: str, stage_index: int, stages: int, done: int, total: int) -> None:
        """A line now and then inside a long unit, so a log shows life."""
        now = time.perf_counter()
        if now - self._last < self.every:
            return
        self._last = now
        part = f", stage {stage} ({stage_index + 1}/{stages})" if stages > 1 else ""
        self._print(f"  running {unit.cell.model.name} / {unit.cell.threat.label}{part}: {done}/{total} samples")

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

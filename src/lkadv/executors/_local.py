"""The in-process executor.

Work goes shard by shard. For each shard the images are loaded once per
preprocessing, each corrupted batch is made once and shared by every model with
that preprocessing, and every model (built once per run and kept) runs its
units: clean first, then corruptions, then each attack family from the smallest
eps up, so that samples wrong when clean or fooled at a smaller eps are never
attacked again (they are not robust at a larger eps either: the smaller ball
lies inside the larger one).
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn

from lkadv.attacks import probe_model
from lkadv.corruptions import apply_protocol, output_problem
from lkadv.engine import use_engine
from lkadv.errors import LkadvError, ModelContractError, describe
from lkadv.executors._attacking import AttackContext, attack_unit
from lkadv.executors._base import Events, Lookup, UnitOutcome
from lkadv.executors._device import pick_device
from lkadv.executors._transfer import TransferContext, transfer_unit
from lkadv.models import HeadedClassifier, build_classifier
from lkadv.planner import Cell, Plan, Unit, derive_seed
from lkadv.specs import CorruptionSpec, ModelSpec
from lkadv.store import ExampleStore
from lkadv.types import Outcomes, Precision, resolve

__all__ = ["LocalExecutor", "score", "score_extras"]


@torch.inference_mode()
def score(model: nn.Module, x: torch.Tensor, y: torch.Tensor, batch_size: int) -> tuple[np.ndarray, ...]:
    """Correctness, prediction and margin of a batch, in chunks of ``batch_size``.

    Returns:
        ``(correct, pred, margin)`` numpy arrays.
    """
    correct, pred, margin, _ = score_extras(model, x, y, batch_size, None)
    return correct, pred, margin


@torch.inference_mode()
def score_extras(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    batch_size: int,
    extras: Callable[[torch.Tensor], dict[str, torch.Tensor]] | None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """:func:`score` plus the dataset's per-sample extras computed from the same logits.

    Returns:
        ``(correct, pred, margin, extras)``.
    """
    correct, pred, margin = [], [], []
    more: dict[str, list[np.ndarray]] = {}
    for i in range(0, len(x), batch_size):
        logits = model(x[i : i + batch_size]).float()
        bad = int((~torch.isfinite(logits).all(1)).sum())
        if bad:
            raise ModelContractError(
                f"the model returned non-finite logits (NaN or infinity) for {bad} of {len(logits)} samples; "
                "a result from them would be meaningless"
            )
        if extras is not None:
            for name, value in extras(logits).items():
                more.setdefault(name, []).append(value.detach().cpu().numpy())
        yb = y[i : i + batch_size].to(logits.device)
        p = logits.argmax(1)
        true = logits.gather(1, yb[:, None]).squeeze(1)
        other = logits.scatter(1, yb[:, None], float("-inf")).amax(1)
        correct.append((p == yb).cpu())
        pred.append(p.cpu())
        margin.append((true - other).cpu())
    if not correct:
        return np.zeros(0, bool), np.zeros(0, np.int64), np.zeros(0, np.float32), {}
    return (
        torch.cat(correct).numpy(),
        torch.cat(pred).numpy().astype(np.int64),
        torch.cat(margin).numpy().astype(np.float32),
        {name: np.concatenate(parts) for name, parts in more.items()},
    )


class _Models:
    """Each model built once per run (and merged, and checked), then kept."""

    def __init__(self, device: torch.device, precision: Precision, head: Any, events: Events, plan: Plan) -> None:
        self._device, self._precision, self._head, self._events, self._plan = device, precision, head, events, plan
        self._built: dict[str, tuple[HeadedClassifier, HeadedClassifier] | None] = {}

    def get(self, spec: ModelSpec) -> tuple[HeadedClassifier, HeadedClassifier] | None:
        """``(attack model at the run precision, fp32 scoring model)``, or None if it failed."""
        if spec.name not in self._built:
            try:
                network = self._events.network(spec)
                clf, report = build_classifier(spec, device=self._device, precision=self._precision, network=network)
            except Exception as exc:  # plugin code (the model's build, merge, forward): its own cells fail
                if self._plan.options.strict_plugins and not isinstance(exc, LkadvError):
                    raise
                for cell in self._plan.cells:
                    if cell.model.name == spec.name:
                        self._events.cell_failed(cell, f"model {spec.name!r} could not be built: {describe(exc)}")
                self._built[spec.name] = None
                return None
            info = {
                "merged": report.merged,
                "reparam_rel_err": report.reparam_rel_err,
                "reparam_rtol": report.reparam_rtol,
                "device": str(self._device),
            }
            for cell in self._plan.cells:
                if cell.model.name == spec.name:
                    self._events.cell_info(cell, info)
            fp32 = clf if self._precision == "fp32" else clf.with_precision("fp32")
            self._built[spec.name] = (HeadedClassifier(clf, self._head), HeadedClassifier(fp32, self._head))
        return self._built[spec.name]


@dataclass
class _Run:
    """What the executor keeps across the shards of one run."""

    plan: Plan
    pending: set[tuple[str, int]]
    lookup: Lookup
    events: Events
    models: _Models
    failed: set[str] = field(default_factory=set)
    probed: set[str] = field(default_factory=set)
    cells_by_model: dict[str, list[Cell]] = field(default_factory=dict)
    previous: dict[str, Cell] = field(default_factory=dict)
    transfers: TransferContext | None = None

    def __post_init__(self) -> None:
        for cell in self.plan.cells:
            self.cells_by_model.setdefault(cell.model.name, []).append(cell)
        self.previous = _previous_eps(self.plan.cells)


@dataclass
class _Shard:
    """What the units of one shard share: labels, corrupted batches, outcomes computed here."""

    shard: int
    start: int
    stop: int
    y: torch.Tensor
    corrupted: dict[tuple[str, str], torch.Tensor] = field(default_factory=dict)
    done: dict[str, Outcomes] = field(default_factory=dict)


class LocalExecutor:
    """Runs units in this process on one device.

    Args:
        device: ``auto``, ``cpu``, ``cuda``...
    """

    def __init__(self, device: str = "auto") -> None:
        self.device = pick_device(device)
        self._extras: Any = None
        self.reraise: tuple[type[BaseException], ...] = ()
        """Errors that leave :meth:`run` instead of failing a cell (a worker halves its batch on OOM)."""
        self._kept: tuple[tuple[str, ...], _Models] | None = None

    def _models(self, plan: Plan, head: Any, events: Events) -> _Models:
        # Models are kept between runs of the same cells: a worker handed task after task builds each once.
        cells = tuple(c.key for c in plan.cells)
        if self._kept is None or self._kept[0] != cells:
            self._kept = (cells, _Models(self.device, plan.options.precision, head, events, plan))
        models = self._kept[1]
        models._events, models._plan = events, plan
        return models

    def run(self, plan: Plan, pending: set[tuple[str, int]], lookup: Lookup, events: Events) -> None:
        """Compute every pending unit of ``plan``, shard by shard, with the plan's engine options."""
        self._extras = resolve(plan.dataset.extras)
        run = _Run(
            plan,
            pending,
            lookup,
            events,
            self._models(plan, resolve(plan.dataset.head), events),
        )
        run.transfers = TransferContext(plan, run.models.get, ExampleStore(plan.options.run_dir), score)
        with use_engine(plan.engine):
            for shard in range(plan.n_shards):
                if any((c.key, shard) in pending for c in plan.cells):
                    self._shard(run, shard)

    def _shard(self, run: _Run, shard: int) -> None:
        """Every pending unit of one shard: images loaded once per preprocessing, models in order."""
        plan = run.plan
        if run.transfers is not None:
            run.transfers.crafted.clear()  # one shard's examples in memory at a time
        start, stop = plan.shard_bounds(shard)
        positions = plan.subset.positions[start:stop]
        y = plan.imageset.labels[list(positions)].to(self.device)
        images: dict[str, torch.Tensor] = {}
        shared = _Shard(shard, start, stop, y)
        for model in plan.models:
            cells = run.cells_by_model[model.name]
            if not any((c.key, shard) in run.pending for c in cells):
                continue
            built = run.models.get(model)
            if built is None:
                continue
            pre = cells[0].preprocessing
            if pre.key() not in images:
                images[pre.key()] = self._load(plan, positions, pre)
            if self._probed(run, model, cells, built, (images[pre.key()], y), shard):
                for cell in cells:
                    if cell.key not in run.failed and (cell.key, shard) in run.pending:
                        self._unit(run, Unit(cell, shard, start, stop), cells, built, images[pre.key()], shared)

    def _probed(
        self,
        run: _Run,
        model: ModelSpec,
        cells: list[Cell],
        built: tuple[HeadedClassifier, HeadedClassifier],
        data: tuple[torch.Tensor, torch.Tensor],
        shard: int,
    ) -> bool:
        """Probe a model once before its first pending attack unit; False if its forward pass failed."""
        if model.name in run.probed or not any(
            c.threat.kind == "attack" and (c.key, shard) in run.pending for c in cells
        ):
            return True
        run.probed.add(model.name)
        b = run.plan.batch_size  # one batch: the probe must fit wherever a batch fits (a worker halves it on OOM)
        try:
            self._probe(built[0], built[1], data[0][:b], data[1][:b], _clean_cell(cells), run.events)
        except Exception as exc:  # the model's own forward failed: its cells fail, the run goes on
            if isinstance(exc, self.reraise) or (run.plan.options.strict_plugins and not isinstance(exc, LkadvError)):
                raise
            for cell in cells:
                run.failed.add(cell.key)
                run.events.cell_failed(cell, f"model {model.name!r} failed its probe: {describe(exc)}")
            return False
        return True

    def _unit(
        self,
        run: _Run,
        unit: Unit,
        cells: list[Cell],
        built: tuple[HeadedClassifier, HeadedClassifier],
        x: torch.Tensor,
        shared: _Shard,
    ) -> None:
        """Compute one unit and hand it to the driver; a failure fails its cell only."""
        plan, cell, y = run.plan, unit.cell, shared.y
        attack_model, score_model = built
        t0 = time.perf_counter()
        try:
            if cell.threat.kind == "clean":
                out, info = self._clean(score_model, x, y, plan.batch_size, self._extras)
            elif cell.threat.kind == "corruption":
                out, info = self._corruption(plan, cell, unit.shard, x, y, score_model, shared.corrupted)
            elif cell.threat.kind == "transfer":
                assert run.transfers is not None
                clean = self._dependency(_clean_cell(cells), unit.shard, shared.done, run.lookup)
                out, info = transfer_unit(run.transfers, unit, x, y, clean, score_model)
            else:
                prev_cell = run.previous.get(cell.key)
                if prev_cell is not None and prev_cell.key in run.failed:
                    raise LkadvError(f"not run: it builds on {prev_cell.threat.label}, which failed")
                clean = self._dependency(_clean_cell(cells), unit.shard, shared.done, run.lookup)
                prev = self._dependency(prev_cell, unit.shard, shared.done, run.lookup) if prev_cell else None
                precision = plan.options.precision
                ctx = AttackContext(plan, attack_model, score_model, plan.batch_size, run.events, score, precision)
                out, info = attack_unit(ctx, unit, x, y, clean, prev)
        except Exception as exc:  # plugin code (model, attack, corruption): only this cell fails
            if isinstance(exc, self.reraise) or (plan.options.strict_plugins and not isinstance(exc, LkadvError)):
                raise
            run.failed.add(cell.key)
            run.events.cell_failed(cell, describe(exc))
            return
        shared.done[cell.key] = out
        info = {**info, "settings": self._settings(plan, unit)}
        run.events.unit_finished(unit, UnitOutcome(out, time.perf_counter() - t0, info))

    # ------------------------------------------------------------------ steps

    def _settings(self, plan: Plan, unit: Unit) -> dict[str, Any]:
        """Every setting that ran the unit, so a third party can repeat it from an export alone."""
        threat = unit.cell.threat
        settings: dict[str, Any] = {
            "batch_size": plan.batch_size,
            "device": str(self.device),
            "precision": plan.options.precision if threat.kind == "attack" else "fp32",
            "torch_threads": torch.get_num_threads(),
        }
        if threat.kind == "attack":
            # The attack's generator is seeded with it; AutoAttack's backend receives it as its seed.
            settings["seed"] = unit.seed
        elif threat.kind == "corruption":
            settings["seed"] = _corruption_seed(plan, threat.id, unit.shard)
        return settings

    def _load(self, plan: Plan, positions: Sequence[int], pre: Any) -> torch.Tensor:
        imageset = plan.imageset_for(pre)
        load_uint8 = getattr(imageset, "load_uint8", None)
        if load_uint8 is not None:  # a quarter of the bytes to move; pinned for an asynchronous copy
            x8: torch.Tensor = load_uint8(list(positions), pin=self.device.type == "cuda")
            return x8.to(self.device, non_blocking=True).float().div_(255.0)
        x = imageset.load(list(positions))
        if self.device.type == "cuda":
            x = x.pin_memory().to(self.device, non_blocking=True)
        return x.to(self.device)

    @staticmethod
    def _probe(
        attack_model: nn.Module, score_model: nn.Module, x: torch.Tensor, y: torch.Tensor, clean: Cell, events: Events
    ) -> None:
        # Model-level sanity checks, stored with its clean cell once: a resumed run reuses them.
        if "sanity" in events.stored_info(clean):
            return
        checks = probe_model(attack_model, score_model, x, y)
        events.cell_info(clean, {"sanity": {"precision": getattr(attack_model, "precision", "fp32"), "checks": checks}})

    @staticmethod
    def _dependency(cell: Cell | None, shard: int, done_here: dict[str, Outcomes], lookup: Lookup) -> Outcomes:
        assert cell is not None
        if cell.key in done_here:
            return done_here[cell.key]
        stored = lookup(cell, shard)
        if stored is None:
            raise LkadvError(f"cell {cell.threat.label} of {cell.model.name} has no result for shard {shard}")
        return stored

    @staticmethod
    def _clean(
        model: nn.Module, x: torch.Tensor, y: torch.Tensor, batch: int, extras: Any = None
    ) -> tuple[Outcomes, dict[str, Any]]:
        correct, pred, margin, more = score_extras(model, x, y, batch, extras)
        return Outcomes(correct, pred, margin, np.zeros(len(x), bool), extras=more), {}

    def _corruption(
        self,
        plan: Plan,
        cell: Cell,
        shard: int,
        x: torch.Tensor,
        y: torch.Tensor,
        model: nn.Module,
        cache: dict[tuple[str, str], torch.Tensor],
    ) -> tuple[Outcomes, dict[str, Any]]:
        threat = cell.threat
        cache_key = (threat.id, cell.preprocessing.key())
        if cache_key not in cache:
            spec: CorruptionSpec = plan.corruption_specs[threat.name]
            fn = resolve(spec.fn)
            gen = torch.Generator(device=x.device).manual_seed(_corruption_seed(plan, threat.id, shard))
            xc = fn(x, threat.severity, gen)
            problem = output_problem(f"corruption {threat.name!r}", x, xc)
            if problem is not None:
                raise LkadvError(problem[1])
            cache[cache_key] = apply_protocol(xc, dict(threat.config)["protocol"])
        correct, pred, margin, more = score_extras(model, cache[cache_key], y, plan.batch_size, self._extras)
        return Outcomes(correct, pred, margin, np.zeros(len(x), bool), extras=more), {}


def _corruption_seed(plan: Plan, threat_id: str, shard: int) -> int:
    # Seeded by threat and shard only, so every model sees the same corrupted batch.
    return derive_seed(plan.options.seed, threat_id, shard)


def _clean_cell(cells: Sequence[Cell]) -> Cell:
    return next(c for c in cells if c.threat.kind == "clean")


def _previous_eps(cells: Sequence[Cell]) -> dict[str, Cell]:
    """For each attack cell, the cell of the same model and attack family at the next smaller eps."""
    out: dict[str, Cell] = {}
    groups: dict[tuple[str, str], list[Cell]] = {}
    for cell in cells:
        if cell.threat.kind == "attack":
            groups.setdefault((cell.model.name, cell.threat.family), []).append(cell)
    for group in groups.values():
        group.sort(key=lambda c: c.threat.eps or 0.0)
        for smaller, larger in itertools.pairwise(group):
            out[larger.key] = smaller
    return out

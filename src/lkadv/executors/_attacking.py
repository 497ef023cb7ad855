"""The attack path of a unit: stages, fp32 re-checks, resume state and the fp32 shadow.

An attack runs as one or more *stages* (a plain attack is one stage; AutoAttack
and worst-of ensembles expose several). Each stage attacks only the samples
still standing: not wrong when clean, not fooled at the next smaller eps of
the same family, not broken by an earlier stage. Every example is checked
against the threat (eps ball, [0, 1]) and re-scored by the fp32 twin of the
model: an example the reduced-precision model calls adversarial but fp32 does
not is not counted (and is counted as rejected). After each stage of a
multi-stage unit the per-sample state goes to the ledger, so an interrupted
unit resumes at its next stage.

Under bf16/fp16 the first shard of a cell also runs the whole attack on a few
fixed clean-correct samples twice, at fp32 and at the run's precision, from the
same seed, and records both robust accuracies: the divergence shows how much
reduced precision weakens (or strengthens) the attack on this model.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn

from lkadv.attacks import build_attack, run_sequential, stage_generator, stages_of
from lkadv.engine import check_adversarial, input_gradients_only, perturbation_norm, trace_engine
from lkadv.executors._base import Events
from lkadv.executors._keep import ExampleKeeper
from lkadv.planner import Plan, Unit
from lkadv.specs import AttackFn
from lkadv.types import Outcomes, Precision

__all__ = ["AttackContext", "attack_unit"]

Scorer = Callable[[nn.Module, torch.Tensor, torch.Tensor, int], tuple[np.ndarray, ...]]


@dataclass
class AttackContext:
    """What the attack path of a unit needs from the executor.

    Attributes:
        plan: The run plan.
        attack_model: The model at the run's precision (what attacks differentiate).
        score_model: Its fp32 twin (what every example is scored with).
        batch: Batch size.
        events: The driver's side (progress of staged units).
        score: The scoring function ``(model, x, y, batch) -> (correct, pred, margin)``.
        precision: The run's attack precision.
    """

    plan: Plan
    attack_model: nn.Module
    score_model: nn.Module
    batch: int
    events: Events
    score: Scorer
    precision: Precision = "fp32"


def _grad_stats(model: nn.Module) -> Any:
    return getattr(model, "grad_stats", None)


def _floats(values: np.ndarray) -> list[float | None]:
    return [None if np.isnan(v) else float(v) for v in values]


def _array(values: list[float | None]) -> np.ndarray:
    return np.asarray([np.nan if v is None else v for v in values], np.float32)


@dataclass
class StagedState:
    """Per-sample state of an attack unit between its stages (what a resumed unit starts from).

    Attributes:
        correct: Still correct (not broken by any stage so far).
        pred: Prediction on the sample's current example.
        margin: Smallest margin seen (NaN: not computed).
        norms: Norm of the sample's last example.
        broken_by: Name of the stage that broke the sample ("" if none).
        stages: Per finished stage: name, attacked, broken, seconds.
        rejected: Reduced-precision claims the fp32 re-check rejected.
        claimed: Reduced-precision claims.
        worst: Largest perturbation norm so far.
        next_stage: The first stage still to run.
    """

    correct: np.ndarray
    pred: np.ndarray
    margin: np.ndarray
    norms: np.ndarray
    broken_by: np.ndarray
    stages: list[dict[str, Any]] = field(default_factory=list)
    rejected: int = 0
    claimed: int = 0
    worst: float = 0.0
    next_stage: int = 0

    @classmethod
    def start(cls, correct: np.ndarray, pred: np.ndarray) -> StagedState:
        """The state before the first stage."""
        n = len(correct)
        nan = np.full(n, np.nan, np.float32)
        return cls(correct, pred, nan.copy(), nan.copy(), np.full(n, "", dtype="<U64"))

    def to_json(self, of: int) -> dict[str, Any]:
        """JSON-ready form, stored in the ledger after a stage of ``of`` stages."""
        return {
            "correct": self.correct.tolist(),
            "pred": self.pred.tolist(),
            "margin": _floats(self.margin),
            "perturbation": _floats(self.norms),
            "broken_by": self.broken_by.tolist(),
            "stages": self.stages,
            "of": of,
            "rejected": self.rejected,
            "claimed": self.claimed,
            "max_perturbation": self.worst,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any], next_stage: int) -> StagedState:
        """The state stored by :meth:`to_json` (older records lack the norms and stage names)."""
        n = len(data["correct"])
        return cls(
            np.asarray(data["correct"], bool),
            np.asarray(data["pred"], np.int64),
            _array(data["margin"]),
            _array(data.get("perturbation", [None] * n)),
            np.asarray(data.get("broken_by", [""] * n), dtype="<U64"),
            list(data["stages"]),
            data["rejected"],
            data["claimed"],
            data["max_perturbation"],
            next_stage,
        )


def attack_unit(
    ctx: AttackContext,
    unit: Unit,
    x: torch.Tensor,
    y: torch.Tensor,
    clean: Outcomes,
    prev: Outcomes | None,
) -> tuple[Outcomes, dict[str, Any]]:
    """Run a unit's attack and score it.

    Args:
        ctx: Models, plan and driver callbacks.
        unit: The unit (an attack cell on one shard).
        x: The shard's images.
        y: Their labels.
        clean: The clean cell's outcomes on the shard.
        prev: The outcomes at the next smaller eps of the same family, if any.

    Returns:
        Per-sample outcomes and the unit's info.

    Raises:
        AttackContractError: If an example leaves the eps ball or [0, 1].
        ConfigError: If the attack cannot be built as configured.
    """
    threat = unit.cell.threat
    spec = ctx.plan.attack_specs[threat.name]
    stages = stages_of(build_attack(spec, dict(threat.config), ctx.plan.attack_specs.__getitem__), threat.name)
    attacked, fooled_before, state = _starting_point(clean, prev)
    saved = ctx.events.saved_progress(unit) if len(stages) > 1 else None
    if saved is not None:
        state = StagedState.from_json(saved[1], saved[0])
    stats = _grad_stats(ctx.attack_model)
    if stats is not None:
        stats.reset()
    keeper = ExampleKeeper(ctx.plan, unit, x, y)  # --save-examples: the first samples' examples
    with trace_engine() as trace:  # which engine paths ran, recorded with the cell
        _run_stages(ctx, unit, stages, (x, y), attacked, state, keeper)
    info: dict[str, Any] = {
        "attacked": int(attacked.sum()),
        "skipped_wrong_clean": int((~clean.correct).sum()),
        "skipped_fooled_smaller_eps": int(fooled_before.sum()),
        "max_perturbation": state.worst,
        "stages": state.stages,
    }
    if stats is not None:
        info["gradients"] = stats.as_dict()
    kept = keeper.save(lambda images: ctx.score(ctx.score_model, images, y[: len(images)], ctx.batch)[1])
    if kept is not None:
        info["examples"] = kept
    info["engine"] = trace.as_dict()
    if unit.shard == 0:
        ctx.events.cell_info(unit.cell, {"engine": info["engine"]})
    _precision_info(ctx, unit, stages, (x, y), clean, state, info)
    state.margin[~attacked] = np.nan
    state.norms[~attacked] = np.nan
    extras = {"perturbation": state.norms, "broken_by": state.broken_by}
    return Outcomes(state.correct, state.pred, state.margin, attacked, extras=extras), info


def _starting_point(clean: Outcomes, prev: Outcomes | None) -> tuple[np.ndarray, np.ndarray, StagedState]:
    """``(attacked, fooled at the smaller eps, state)``: samples wrong when clean or already fooled are skipped."""
    skip = ~clean.correct
    pred = clean.pred.copy()
    fooled_before = np.zeros(len(skip), bool)
    if prev is not None:
        fooled_before = ~prev.correct & ~skip
        pred[fooled_before] = prev.pred[fooled_before]
        skip = skip | ~prev.correct
    attacked = ~skip
    return attacked, fooled_before, StagedState.start(attacked.copy(), pred)


def _run_stages(
    ctx: AttackContext,
    unit: Unit,
    stages: list[tuple[str, AttackFn]],
    data: tuple[torch.Tensor, torch.Tensor],
    attacked: np.ndarray,
    state: StagedState,
    keeper: ExampleKeeper,
) -> None:
    """Each stage from ``state.next_stage`` on the samples still standing; the state saved between stages."""
    x = data[0]
    base_gen = torch.Generator(device=x.device).manual_seed(unit.seed)
    for index in range(state.next_stage, len(stages)):
        name, fn = stages[index]
        t0 = time.perf_counter()
        todo = np.flatnonzero(state.correct & attacked)
        gen = stage_generator(base_gen)
        broken = 0
        for i in range(0, len(todo), ctx.batch):
            sel = todo[i : i + ctx.batch]
            broken += _attack_batch(ctx, unit, (name, fn), len(stages) > 1, data, sel, gen, state, keeper)
            ctx.events.unit_step(unit, name, index, len(stages), i + len(sel), len(todo))
        state.stages.append(
            {"name": name, "attacked": len(todo), "broken": broken, "seconds": round(time.perf_counter() - t0, 4)}
        )
        if len(stages) > 1 and index + 1 < len(stages):
            ctx.events.stage_finished(unit, index + 1, state.to_json(len(stages)))


def _attack_batch(
    ctx: AttackContext,
    unit: Unit,
    stage: tuple[str, AttackFn],
    staged: bool,
    data: tuple[torch.Tensor, torch.Tensor],
    sel: np.ndarray,
    gen: torch.Generator,
    state: StagedState,
    keeper: ExampleKeeper,
) -> int:
    """One batch of one stage: attack, check, re-score in fp32; returns how many it broke."""
    threat = unit.cell.threat
    name, fn = stage
    eps, norm = float(threat.eps or 0.0), str(threat.norm)
    idx = torch.as_tensor(sel, device=data[0].device)
    xb, yb = data[0][idx], data[1][idx]
    with input_gradients_only(ctx.attack_model):  # plugin attacks too: see lkadv.engine.input_gradients_only
        x_adv = fn(ctx.attack_model, xb, yb, eps, gen).detach()
    check_adversarial(xb, x_adv, eps, norm, f"{threat.name}/{name}" if staged else threat.name)
    c, p, m = ctx.score(ctx.score_model, x_adv, yb, ctx.batch)
    keeper.add(sel, x_adv)
    if ctx.precision != "fp32":
        with torch.no_grad():
            claims = (ctx.attack_model(x_adv).argmax(1) != yb).cpu().numpy()
        state.claimed += int(claims.sum())
        state.rejected += int((claims & c).sum())
    hit = ~c
    state.broken_by[sel[hit]] = name
    state.correct[sel[hit]] = False
    state.pred[sel[hit]] = p[hit]
    state.margin[sel] = np.fmin(state.margin[sel], m)
    if len(xb):
        sizes = perturbation_norm(x_adv - xb, norm).cpu().numpy()
        state.norms[sel] = sizes
        state.worst = max(state.worst, float(sizes.max()))
    return int(hit.sum())


def _precision_info(
    ctx: AttackContext,
    unit: Unit,
    stages: list[tuple[str, AttackFn]],
    data: tuple[torch.Tensor, torch.Tensor],
    clean: Outcomes,
    state: StagedState,
    info: dict[str, Any],
) -> None:
    """Under bf16/fp16: the fp32 re-check counts and, on the first shard, the fp32 shadow."""
    if ctx.precision == "fp32":
        return
    info["precision"] = {"attack": ctx.precision, "claimed": state.claimed, "rejected_by_fp32": state.rejected}
    shadow_n = ctx.plan.options.shadow_samples
    if unit.shard == 0 and shadow_n > 0:
        ball = (float(unit.cell.threat.eps or 0.0), str(unit.cell.threat.norm))
        info["shadow"] = _shadow(ctx, stages, data[0], data[1], clean, ball, unit.seed, shadow_n)
        # Also on the cell, so every export of the cell's result carries it.
        ctx.events.cell_info(unit.cell, {"shadow": {**info["shadow"], "precision": ctx.precision}})


def _shadow(
    ctx: AttackContext,
    stages: list[tuple[str, AttackFn]],
    x: torch.Tensor,
    y: torch.Tensor,
    clean: Outcomes,
    ball: tuple[float, str],
    seed: int,
    count: int,
) -> dict[str, Any]:
    """The whole attack on the first ``count`` clean-correct samples, at fp32 and at the run's precision.

    ``ball`` is the threat's ``(eps, norm)``; every example is checked against it.
    """
    eps, norm = ball
    pick = np.flatnonzero(clean.correct)[:count]
    if len(pick) == 0:
        return {"n": 0}
    idx = torch.as_tensor(pick, device=x.device)
    xs, ys = x[idx], y[idx]
    robust = {}
    for label, model in (("fp32", ctx.score_model), ("reduced", ctx.attack_model)):
        gen = torch.Generator(device=x.device).manual_seed(seed)
        x_adv = run_sequential(stages, model, xs, ys, eps, gen)
        # The bound holds on every example lkadv computes, the shadow's included.
        check_adversarial(xs, x_adv, eps, norm, f"shadow ({label})")
        c, _, _ = ctx.score(ctx.score_model, x_adv, ys, ctx.batch)
        robust[label] = c
    return {
        "n": len(pick),
        "robust_fp32": int(robust["fp32"].sum()),
        "robust_reduced": int(robust["reduced"].sum()),
        "disagree": int((robust["fp32"] != robust["reduced"]).sum()),
        "divergence": float(robust["reduced"].mean() - robust["fp32"].mean()),
    }

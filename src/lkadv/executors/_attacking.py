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
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from lkadv._imports import resolve
from lkadv.attacks._check import check_adversarial
from lkadv.attacks._freeze import input_gradients_only
from lkadv.attacks._norms import perturbation_norm
from lkadv.attacks._trace import trace_engine
from lkadv.attacks._worst import run_sequential, stage_generator
from lkadv.executors._base import Events
from lkadv.executors._keep import ExampleKeeper
from lkadv.planner import Plan, Unit, resolve_members
from lkadv.specs import AttackFn, AttackSpec
from lkadv.store import Outcomes

__all__ = ["AttackContext", "attack_unit", "build_attack", "stages_of"]

Scorer = Callable[[nn.Module, torch.Tensor, torch.Tensor, int], tuple[np.ndarray, ...]]


def _factory(spec: AttackSpec) -> Callable[..., AttackFn]:
    return resolve(spec.factory) if isinstance(spec.factory, str) else spec.factory


def _params(spec: AttackSpec, config: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in config.items() if k in spec.params or k == "norm"}


def build_attack(spec: AttackSpec, config: dict[str, Any], specs: dict[str, AttackSpec]) -> AttackFn:
    """The attack callable of a cell (composite members built from ``specs``)."""
    params = _params(spec, config)
    if spec.composite:
        members = []
        for member, member_config in resolve_members(config["members"], config["norm"], specs.__getitem__):
            members.append((member.name, _factory(member)(**_params(member, member_config))))
        params["members"] = members
    return _factory(spec)(**params)


def stages_of(attack: AttackFn, name: str) -> list[tuple[str, AttackFn]]:
    """An attack's stages (``[(name, attack)]`` for a plain one)."""
    stages = getattr(attack, "stages", None)
    return list(stages) if stages else [(name, attack)]


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
    precision: str = "fp32"


def _grad_stats(model: nn.Module) -> Any:
    return getattr(model, "grad_stats", None)


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
    config = dict(threat.config)
    spec = ctx.plan.attack_specs[threat.name]
    attack = build_attack(spec, config, ctx.plan.attack_specs)
    stages = stages_of(attack, threat.name)
    eps = float(threat.eps or 0.0)
    norm = config["norm"]
    n = len(x)

    skip = ~clean.correct
    pred = clean.pred.copy()
    fooled_before = np.zeros(n, bool)
    if prev is not None:
        fooled_before = ~prev.correct & ~skip
        pred[fooled_before] = prev.pred[fooled_before]
        skip = skip | ~prev.correct
    attacked = ~skip
    correct = attacked.copy()
    margin = np.full(n, np.nan, np.float32)
    # Per sample: the norm of its last example (the one that broke it, if any) and the stage that broke it.
    norms = np.full(n, np.nan, np.float32)
    broken_by = np.full(n, "", dtype="<U64")
    stage_info: list[dict[str, Any]] = []
    rejected = claimed = 0
    worst = 0.0
    first = 0

    saved = ctx.events.saved_progress(unit) if len(stages) > 1 else None
    if saved is not None:
        first, state = saved
        correct = np.asarray(state["correct"], bool)
        pred = np.asarray(state["pred"], np.int64)
        margin = np.asarray([np.nan if m is None else m for m in state["margin"]], np.float32)
        norms = np.asarray([np.nan if v is None else v for v in state.get("perturbation", [None] * n)], np.float32)
        broken_by = np.asarray(state.get("broken_by", [""] * n), dtype="<U64")
        stage_info = list(state["stages"])
        rejected, claimed, worst = state["rejected"], state["claimed"], state["max_perturbation"]

    stats = _grad_stats(ctx.attack_model)
    if stats is not None:
        stats.reset()
    base_gen = torch.Generator(device=x.device).manual_seed(unit.seed)
    keeper = ExampleKeeper(ctx.plan, unit, x, y, pred)  # --save-examples: the first samples' examples
    reduced = ctx.precision != "fp32"

    with trace_engine() as trace:  # which engine paths ran, recorded with the cell
        for index in range(first, len(stages)):
            name, fn = stages[index]
            t0 = time.perf_counter()
            todo = np.flatnonzero(correct & attacked)
            gen = stage_generator(base_gen)
            broken = 0
            for i in range(0, len(todo), ctx.batch):
                sel = todo[i : i + ctx.batch]
                idx = torch.as_tensor(sel, device=x.device)
                xb, yb = x[idx], y[idx]
                with input_gradients_only(ctx.attack_model):  # plugin attacks too: see lkadv.attacks._freeze
                    x_adv = fn(ctx.attack_model, xb, yb, eps, gen).detach()
                check_adversarial(xb, x_adv, eps, norm, f"{threat.name}/{name}" if len(stages) > 1 else threat.name)
                c, p, m = ctx.score(ctx.score_model, x_adv, yb, ctx.batch)
                keeper.add(sel, x_adv, p)
                if reduced:
                    with torch.no_grad():
                        claims = (ctx.attack_model(x_adv).argmax(1) != yb).cpu().numpy()
                    claimed += int(claims.sum())
                    rejected += int((claims & c).sum())
                hit = ~c
                broken_by[sel[hit]] = name
                correct[sel[hit]] = False
                pred[sel[hit]] = p[hit]
                margin[sel] = np.fmin(margin[sel], m)
                broken += int(hit.sum())
                ctx.events.unit_step(unit, name, index, len(stages), i + len(sel), len(todo))
                if len(xb):
                    sizes = perturbation_norm(x_adv - xb, norm).cpu().numpy()
                    norms[sel] = sizes
                    worst = max(worst, float(sizes.max()))
            stage_info.append(
                {"name": name, "attacked": len(todo), "broken": broken, "seconds": round(time.perf_counter() - t0, 4)}
            )
            if len(stages) > 1 and index + 1 < len(stages):
                ctx.events.stage_finished(
                    unit,
                    index + 1,
                    {
                        "correct": correct.tolist(),
                        "pred": pred.tolist(),
                        "margin": [None if np.isnan(v) else float(v) for v in margin],
                        "perturbation": [None if np.isnan(v) else float(v) for v in norms],
                        "broken_by": broken_by.tolist(),
                        "stages": stage_info,
                        "of": len(stages),
                        "rejected": rejected,
                        "claimed": claimed,
                        "max_perturbation": worst,
                    },
                )

    info: dict[str, Any] = {
        "attacked": int(attacked.sum()),
        "skipped_wrong_clean": int((~clean.correct).sum()),
        "skipped_fooled_smaller_eps": int(fooled_before.sum()),
        "max_perturbation": worst,
        "stages": stage_info,
    }
    if stats is not None:
        info["gradients"] = stats.as_dict()
    kept = keeper.save()
    if kept is not None:
        info["examples"] = kept
    info["engine"] = trace.as_dict()
    if unit.shard == 0:
        ctx.events.cell_info(unit.cell, {"engine": info["engine"]})
    if reduced:
        info["precision"] = {"attack": ctx.precision, "claimed": claimed, "rejected_by_fp32": rejected}
        shadow_n = ctx.plan.options.shadow_samples
        if unit.shard == 0 and shadow_n > 0:
            info["shadow"] = _shadow(ctx, stages, x, y, clean, (eps, norm), unit.seed, shadow_n)
            # Also on the cell, so every export of the cell's result carries it.
            ctx.events.cell_info(unit.cell, {"shadow": {**info["shadow"], "precision": ctx.precision}})
    margin[~attacked] = np.nan
    norms[~attacked] = np.nan
    extras = {"perturbation": norms, "broken_by": broken_by}
    return Outcomes(correct, pred, margin, attacked, extras=extras), info


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

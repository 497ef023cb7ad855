"""The transfer path of a unit: craft on the source once, save as 8-bit images, score on the target.

A transfer unit (target model x ``attack from source`` x shard) first looks for
the shard's examples in the run directory's example store, under a key that
hashes everything they depend on but the target (the source's loaded identity,
the attack's full configuration, eps, subset, shard, seed). If they are not
there, it crafts them on the source model, checks them against the threat,
quantizes them to uint8 (inside the eps ball), stores them (atomically, before
the unit is committed) and keeps them in memory for the other targets of the
shard. So the crafting cost is paid once per source and shard, whatever the
number of targets, and a killed run loses no finished crafting.

Samples the target misclassifies when clean count as not robust and are not
scored (``attacked`` False); the success rate is the share of the others that
the examples fool.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn

from lkadv.attacks import build_attack, run_sequential, stages_of
from lkadv.engine import check_adversarial, input_gradients_only, perturbation_norm
from lkadv.errors import LkadvError
from lkadv.planner import Plan, Unit, craft_key_material, derive_seed, source_of
from lkadv.store import ExampleSet, ExampleStore, quantize_uint8
from lkadv.types import Outcomes

__all__ = ["TransferContext", "craft_key", "transfer_unit"]

Scorer = Callable[[nn.Module, torch.Tensor, torch.Tensor, int], tuple[np.ndarray, ...]]
Built = Callable[[Any], tuple[nn.Module, nn.Module] | None]


@dataclass
class TransferContext:
    """What transfer units need from the executor.

    Attributes:
        plan: The run plan.
        models: ``spec -> (attack model, fp32 scoring model)`` or None if it failed to build.
        store: The run directory's example store.
        score: ``(model, x, y, batch) -> (correct, pred, margin)``.
        crafted: Example sets of the current shard by craft key (shared by its targets).
        crafts: Craft keys crafted by this executor (the rest were read from the store).
    """

    plan: Plan
    models: Built
    store: ExampleStore
    score: Scorer
    crafted: dict[str, ExampleSet] = field(default_factory=dict)
    crafts: list[str] = field(default_factory=list)


def craft_key(unit: Unit) -> str:
    """The example-store key of a transfer unit's crafted examples (the same for every target)."""
    material = craft_key_material(unit.cell.material, unit.shard, unit.start, unit.stop)
    digest = hashlib.sha256(json.dumps(material, sort_keys=True, default=str).encode()).hexdigest()
    return f"transfer-{digest}"


def _craft(ctx: TransferContext, unit: Unit, x: torch.Tensor, y: torch.Tensor, source: str) -> ExampleSet:
    plan, threat = ctx.plan, unit.cell.threat
    spec = next((m for m in plan.models if m.name == source), None)
    built = ctx.models(spec) if spec is not None else None
    if built is None:
        raise LkadvError(f"not run: its source model {source!r} could not be built")
    attack_model, score_model = built
    config = dict(threat.config)
    attack = build_attack(plan.attack_specs[threat.name], config, plan.attack_specs.__getitem__)
    stages = stages_of(attack, threat.name)
    eps, norm = float(threat.eps or 0.0), str(config["norm"])
    gen = torch.Generator(device=x.device).manual_seed(
        derive_seed(plan.options.seed, "transfer", source, threat.id, unit.shard)
    )
    images, preds = [], []
    for i in range(0, len(x), plan.batch_size):
        xb, yb = x[i : i + plan.batch_size], y[i : i + plan.batch_size]
        with input_gradients_only(attack_model):  # plugin attacks too, as on the white-box path
            x_adv = run_sequential(stages, attack_model, xb, yb, eps, gen).detach()
        check_adversarial(xb, x_adv, eps, norm, f"{threat.name} on {source}")
        q = quantize_uint8(x_adv.double().cpu().numpy(), xb.double().cpu().numpy(), eps)
        images.append(q)
        xq = torch.from_numpy(q).to(x.device).float().div_(255.0)
        preds.append(ctx.score(score_model, xq, yb, plan.batch_size)[1])
    indices = np.arange(unit.start, unit.stop)
    return ExampleSet(
        indices,
        [str(plan.subset.ids[i]) for i in indices],
        np.concatenate(images) if images else np.zeros((0, *x.shape[1:]), np.uint8),
        y.cpu().numpy(),
        np.concatenate(preds) if preds else np.zeros(0, np.int64),
        {"source": source, "threat": threat.id, "eps": eps, "shard": unit.shard, "dataset": plan.dataset.name},
    )


def _examples(ctx: TransferContext, unit: Unit, x: torch.Tensor, y: torch.Tensor) -> tuple[ExampleSet, str, bool]:
    """The unit's examples: from memory, from the store, or crafted now (then stored)."""
    key = craft_key(unit)
    if key in ctx.crafted:
        return ctx.crafted[key], key, False
    found = ctx.store.get(key)
    crafted = found is None
    if found is None:
        source = source_of(unit.cell.threat)
        assert source is not None
        if not ctx.plan.options.craft:
            raise LkadvError(
                f"the examples of {unit.cell.threat.label} for shard {unit.shard} are not saved in "
                f"{ctx.plan.options.run_dir}; run the transfer cells with `lkadv run` first"
            )
        found = _craft(ctx, unit, x, y, source)
        ctx.store.put(key, found)
        ctx.crafts.append(key)
    if len(found.ids) != len(x) or list(found.indices) != list(range(unit.start, unit.stop)):
        raise LkadvError(f"saved examples {key} do not cover shard {unit.shard}; delete them to craft them again")
    ctx.crafted[key] = found
    return found, key, crafted


def transfer_unit(
    ctx: TransferContext, unit: Unit, x: torch.Tensor, y: torch.Tensor, clean: Outcomes, target: nn.Module
) -> tuple[Outcomes, dict[str, Any]]:
    """Score a transfer unit's saved examples on its target model.

    Args:
        ctx: The executor's side.
        unit: The unit (a transfer cell on one shard).
        x: The shard's clean images.
        y: Their labels.
        clean: The target's clean outcomes on the shard.
        target: The target's fp32 scoring model.

    Returns:
        Per-sample outcomes and the unit's info (examples digest, whether it crafted them).
    """
    t0 = time.perf_counter()
    examples, key, crafted = _examples(ctx, unit, x, y)
    craft_seconds = time.perf_counter() - t0
    xq = torch.from_numpy(examples.images).to(x.device).float().div_(255.0)
    c, p, m = ctx.score(target, xq, y, ctx.plan.batch_size)
    attacked = clean.correct.copy()
    correct = attacked & c
    pred = np.where(attacked, p, clean.pred)
    margin = np.where(attacked, m, np.nan).astype(np.float32)
    norm = str(dict(unit.cell.threat.config)["norm"])
    sizes = perturbation_norm(xq.double() - x.double(), norm).cpu().numpy().astype(np.float32)
    broken_by = np.where(attacked & ~c, unit.cell.threat.name, "").astype("<U64")
    extras = {"perturbation": np.where(attacked, sizes, np.nan).astype(np.float32), "broken_by": broken_by}
    info = {
        "source": source_of(unit.cell.threat),
        "examples": ctx.store.digest(key),
        "crafted": crafted,
        "craft_seconds": round(craft_seconds, 4) if crafted else 0.0,
        "attacked": int(attacked.sum()),
        "fooled": int((attacked & ~c).sum()),
        "skipped_wrong_clean": int((~clean.correct).sum()),
        "max_perturbation": float(sizes.max()) if len(sizes) else 0.0,
    }
    return Outcomes(correct, pred, margin, attacked, extras=extras), info

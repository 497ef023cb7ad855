"""The names of the contracts the kit checks, each with what it means.

Names are ``KIND.WHAT``; every failure message starts with one of them, and the
plugin guide (docs/plugins.md) explains each.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from lkadv.errors import ConfigError, LkadvError
from lkadv.testing._errors import ContractSkipped, ContractViolation

__all__ = ["CONTRACTS", "KINDS", "check_described", "run_contracts", "select_contracts"]

KINDS = ("plugin", "model", "attack", "corruption", "dataset", "analysis")

CONTRACTS: Mapping[str, str] = {
    "plugin.loads": "the plugin imports and registers without error, and is listed as ok",
    "plugin.registers": "the plugin registers at least one spec",
    "model.metadata": "the ModelSpec validates, describes itself as JSON and names its label space",
    "model.builds": "the factory returns an nn.Module",
    "model.output-shape": "[0,1] input at the native size gives finite float32 logits of shape [N, num_classes]",
    "model.input-range": "all-black and all-white images give finite logits",
    "model.gradients": "the logits have a finite, non-zero gradient with respect to the [0,1] input",
    "model.eval-mode": (
        "after wrapping no module trains: none is in training mode, a forward pass changes no buffer, "
        "and the same input gives the same logits twice"
    ),
    "model.batch-invariance": "a sample's logits do not depend on the other samples of its batch",
    "model.normalization-inside": "the network expects input normalized with the spec's mean/std, exactly once",
    "model.reparam-equivalence": "structural re-parameterization keeps the logits within reparam_rtol",
    "attack.metadata": "the AttackSpec validates and resolves its default configuration for every norm",
    "attack.output": "the attack returns a finite float tensor of the input's shape and leaves its inputs unchanged",
    "attack.range": "every adversarial pixel lies in [0, 1]",
    "attack.norm-bound": "||x_adv - x||_p <= eps under every norm the attack declares",
    "attack.determinism": "the same generator seed gives the same adversarial examples",
    "corruption.metadata": "the CorruptionSpec validates and its severities are 1..n",
    "corruption.shape": "the output has the input's shape on 1 and 3 channels and odd sizes",
    "corruption.dtype": "the output has the input's dtype and device, and the input is left unchanged",
    "corruption.range": "every output pixel is finite and lies in [0, 1]",
    "corruption.determinism": "the same seed gives the same output; a non-random corruption ignores the seed",
    "corruption.severity-monotonic": "a higher severity moves a fixed image at least as far from the clean one",
    "dataset.metadata": "the DatasetSpec validates and describes itself as JSON",
    "dataset.layout": "a missing or empty root fails with a DataError naming the expected layout and the setting",
    "dataset.samples": "ids, int64 labels in range and float32 [0,1] NCHW images at the preprocessing size",
    "dataset.score": "the head maps model logits to [N, num_classes] row by row, keeping gradients",
    "analysis.metadata": "the AnalysisSpec validates and describes itself as JSON",
    "analysis.units": "the analysis plans at least one unit on the model it is checked with",
    "analysis.rows": "rows() turns stored results into a list of dicts (the table)",
    "analysis.outputs": "the run writes the analysis's figure (SVG, PNG) and table (md, csv, json)",
    "analysis.resume": "a rerun in the same run directory computes no unit",
    "analysis.determinism": "two runs with one seed in fresh directories give the same table",
}


def select_contracts(kind: str, contracts: Iterable[str] | None) -> list[str]:
    """The contracts of one kind to run, in table order.

    Args:
        kind: ``"model"``, ``"attack"``...
        contracts: Names to keep (``None``: all of the kind).

    Returns:
        Contract names.

    Raises:
        ConfigError: If a name is unknown or of another kind.
    """
    own = [c for c in CONTRACTS if c.startswith(kind + ".")]
    if contracts is None:
        return own
    wanted = list(contracts)
    unknown = [c for c in wanted if c not in own]
    if unknown:
        raise ConfigError(f"unknown {kind} contract(s) {unknown}; known: {own}")
    return [c for c in own if c in wanted]


def check_described(rule: str, what: str, spec: Any) -> None:
    """A spec validates and describes itself as JSON (every kind's ``*.metadata`` contract starts here).

    Raises:
        ContractViolation: Under ``rule``, naming ``what`` and the problem.
    """
    try:
        spec.validate()
        json.dumps(spec.describe())
    except (LkadvError, TypeError, ValueError) as exc:
        raise ContractViolation(rule, f"{what}: {exc}") from exc


def run_contracts(kind: str, contracts: Iterable[str] | None, check: Callable[[str], None]) -> dict[str, str]:
    """Run the selected contracts of one kind in table order: ``ok``, or ``skipped: why`` for a skipped one.

    Raises:
        ContractViolation: On the first broken contract.
    """
    results: dict[str, str] = {}
    for name in select_contracts(kind, contracts):
        try:
            check(name)
        except ContractSkipped as skip:
            results[name] = f"skipped: {skip.reason}"
            continue
        results[name] = "ok"
    return results

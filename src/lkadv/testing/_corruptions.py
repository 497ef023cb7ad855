"""Corruption contracts: shape, dtype, range, determinism and severity order."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable
from typing import Any

import torch

from lkadv.corruptions import OutputRule, output_problem
from lkadv.specs import CorruptionSpec
from lkadv.testing._contracts import check_described, run_contracts
from lkadv.testing._errors import ContractViolation
from lkadv.testing._inputs import tiny_images
from lkadv.types import resolve

__all__ = ["CATEGORIES", "check_corruption"]

CATEGORIES = ("noise", "blur", "weather", "digital", "extra")

# One grey image with odd sides, one colour image: "any resolution, 1 or 3 channels".
_SHAPES = ((1, 17, 23), (3, 32, 32))


class _Runs:
    """Each (shape, severity) corrupted once with the base seed; contracts read the cache."""

    def __init__(self, spec: CorruptionSpec, seed: int, tolerance: float) -> None:
        self.spec, self.seed, self.tolerance = spec, seed, tolerance
        self.inputs = {shape: tiny_images(shape, n=2, seed=seed) for shape in _SHAPES}
        self._cache: dict[tuple[tuple[int, int, int], int], torch.Tensor] = {}

    @property
    def fn(self) -> Callable[..., Any]:
        fn = self.spec.fn
        return resolve(fn)

    def apply(
        self, shape: tuple[int, int, int], severity: int, seed: int | None = None, global_seed: int = 0
    ) -> torch.Tensor:
        key = (shape, severity)
        if seed is None and key in self._cache:
            return self._cache[key]
        x = self.inputs[shape]
        given = x.clone()
        generator = torch.Generator().manual_seed(self.seed if seed is None else seed)
        where = f"corruption {self.spec.name!r} (severity {severity}, input {list(x.shape)})"
        try:
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(global_seed)
                out = self.fn(given, severity, generator)
        except Exception as exc:  # the plugin's failure on valid input, named
            raise ContractViolation("corruption.shape", f"{where} raised {type(exc).__name__}: {exc}") from exc
        if not isinstance(out, torch.Tensor):
            raise ContractViolation("corruption.shape", f"{where} returned {type(out).__name__}, not a tensor")
        if not torch.equal(given, x):
            raise ContractViolation("corruption.dtype", f"{where} modified its input in place")
        if seed is None:
            self._cache[key] = out
        return out

    def each(self) -> Iterable[tuple[tuple[int, int, int], int, torch.Tensor]]:
        for shape in _SHAPES:
            for severity in self.spec.severities:
                yield shape, severity, self.apply(shape, severity)


def _metadata(runs: _Runs) -> None:
    spec = runs.spec
    check_described("corruption.metadata", f"corruption {spec.name!r}", spec)
    expected = tuple(range(1, len(spec.severities) + 1))
    if tuple(spec.severities) != expected:
        raise ContractViolation(
            "corruption.metadata", f"corruption {spec.name!r}: severities {spec.severities!r}, expected {expected!r}"
        )
    if spec.category not in CATEGORIES:
        raise ContractViolation(
            "corruption.metadata", f"corruption {spec.name!r}: category {spec.category!r} is not one of {CATEGORIES}"
        )


def _output(rule: OutputRule) -> Callable[[_Runs], None]:
    """The check of one rule of the output contract (the one the executor applies to every batch)."""

    def check(runs: _Runs) -> None:
        for shape, severity, out in runs.each():
            what = f"corruption {runs.spec.name!r} (severity {severity})"
            problem = output_problem(what, runs.inputs[shape], out)
            if problem is not None and problem[0] == rule:
                raise ContractViolation(*problem)

    return check


def _determinism(runs: _Runs) -> None:
    shape, name = _SHAPES[-1], runs.spec.name
    for severity in runs.spec.severities:
        first = runs.apply(shape, severity, seed=runs.seed, global_seed=1)
        again = runs.apply(shape, severity, seed=runs.seed, global_seed=2)
        if not torch.equal(first, again):
            raise ContractViolation(
                "corruption.determinism",
                f"corruption {name!r} (severity {severity}): the same seed gave outputs "
                f"{float((first - again).abs().max()):.3g} apart; draw every random number from the generator "
                "argument, never from torch's global RNG",
            )
        if not runs.spec.random:
            other = runs.apply(shape, severity, seed=runs.seed + 1)
            if not torch.equal(first, other):
                raise ContractViolation(
                    "corruption.determinism",
                    f"corruption {name!r} (severity {severity}) is declared random=False but its output changes with "
                    "the seed; declare random=True",
                )


def _monotonic(runs: _Runs) -> None:
    shape = _SHAPES[-1]
    x = runs.inputs[shape]
    distances = [
        (s, float((runs.apply(shape, s) - x).double().pow(2).mean().sqrt())) for s in sorted(runs.spec.severities)
    ]
    for (s0, d0), (s1, d1) in itertools.pairwise(distances):
        if d1 < d0 * (1 - runs.tolerance) - 1e-7:
            listed = ", ".join(f"{s}: {d:.4g}" for s, d in distances)
            raise ContractViolation(
                "corruption.severity-monotonic",
                f"corruption {runs.spec.name!r}: severity {s1} moves the fixed image less than severity {s0} "
                f"(RMS distance {d1:.4g} < {d0:.4g}; all: {listed})",
            )


_CHECKS: dict[str, Callable[[_Runs], None]] = {
    "corruption.metadata": _metadata,
    "corruption.shape": _output("corruption.shape"),
    "corruption.dtype": _output("corruption.dtype"),
    "corruption.range": _output("corruption.range"),
    "corruption.determinism": _determinism,
    "corruption.severity-monotonic": _monotonic,
}


def check_corruption(
    spec: CorruptionSpec,
    *,
    contracts: Iterable[str] | None = None,
    seed: int = 0,
    monotonic_tolerance: float = 0.01,
) -> dict[str, str]:
    """Check a corruption spec and its function against the corruption contracts.

    Inputs are two tiny images of 1 channel at 17x23 and two of 3 channels at
    32x32; severity order is measured as the RMS distance from the clean image.

    Args:
        spec: The corruption spec, as the plugin registers it.
        contracts: Contract names to run (default: every ``corruption.*`` contract).
        seed: Generator seed.
        monotonic_tolerance: Relative dip in distance tolerated between successive severities.

    Returns:
        ``{contract: "ok"}`` in check order.

    Raises:
        ContractViolation: On the first broken contract, naming it and the value.
    """
    runs = _Runs(spec, seed, monotonic_tolerance)
    return run_contracts("corruption", contracts, lambda name: _CHECKS[name](runs))

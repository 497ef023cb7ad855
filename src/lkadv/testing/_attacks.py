"""Attack contracts: every result inside the eps ball and [0, 1], for every declared norm."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import torch
from torch import nn

from lkadv.engine import ABS_SLACK, REL_SLACK, perturbation_norm
from lkadv.errors import LkadvError
from lkadv.specs import AttackSpec
from lkadv.testing._contracts import run_contracts
from lkadv.testing._errors import ContractViolation
from lkadv.testing._inputs import tiny_classifier, tiny_images
from lkadv.types import resolve

__all__ = ["DEFAULT_EPS", "check_attack"]

# Radii in pixel units, small to large: the largest push many pixels past 0 or 1,
# so an attack that forgets to clip shows it.
DEFAULT_EPS: Mapping[str, tuple[float, ...]] = {
    "linf": (1 / 255, 8 / 255, 0.25),
    "l2": (0.1, 0.5, 3.0),
    "l1": (1.0, 5.0, 30.0),
    "l0": (1.0, 3.0, 20.0),  # pixels changed (a pixel: one spatial position, all channels)
}


class _Runs:
    """Each (norm, eps) attacked once; the contracts read the cached results."""

    def __init__(
        self,
        spec: AttackSpec,
        params: Mapping[str, Any],
        classifier: nn.Module,
        x: torch.Tensor,
        eps: Mapping[str, tuple[float, ...]],
        seed: int,
    ) -> None:
        self.spec, self.params, self.classifier, self.x, self.eps, self.seed = spec, params, classifier, x, eps, seed
        with torch.no_grad():
            self.y = classifier(x).argmax(1)  # attacks only ever see correctly classified samples
        self._results: dict[tuple[str, float], torch.Tensor] = {}

    def grid(self) -> list[tuple[str, float]]:
        return [(norm, e) for norm in self.spec.norms for e in self.eps.get(norm, DEFAULT_EPS[norm])]

    def attack(self, norm: str, eps: float, seed: int | None = None, global_seed: int = 0) -> torch.Tensor:
        """Run the attack; ``global_seed`` seeds torch's global RNG, which a seeded attack must not use."""
        key = (norm, eps)
        if seed is None and key in self._results:
            return self._results[key]
        name = self.spec.name
        try:
            config = self.spec.resolve({**self.params, "norm": norm})
        except LkadvError as exc:
            raise ContractViolation("attack.metadata", f"attack {name!r}: {exc}") from exc
        factory = resolve(self.spec.factory)
        x, y = self.x.clone(), self.y.clone()
        generator = torch.Generator().manual_seed(self.seed if seed is None else seed)
        where = f"attack {name!r} ({norm}, eps {eps:.6g})"
        try:
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(global_seed)
                out = factory(**config)(self.classifier, x, y, eps, generator)
        except Exception as exc:  # the plugin's failure on valid input, named
            raise ContractViolation("attack.output", f"{where} raised {type(exc).__name__}: {exc}") from exc
        if not isinstance(out, torch.Tensor):
            raise ContractViolation("attack.output", f"{where} returned {type(out).__name__}, not a tensor")
        if not torch.equal(x, self.x) or not torch.equal(y, self.y):
            raise ContractViolation("attack.output", f"{where} modified its input x or y in place")
        if out.shape != x.shape:
            raise ContractViolation(
                "attack.output", f"{where} returned shape {list(out.shape)}, expected {list(x.shape)}"
            )
        if not out.dtype.is_floating_point or not bool(torch.isfinite(out).all()):
            raise ContractViolation(
                "attack.output", f"{where} returned {out.dtype} with non-finite or non-float values"
            )
        out = out.detach()
        if seed is None:
            self._results[key] = out
        return out


def _metadata(runs: _Runs) -> None:
    spec = runs.spec
    try:
        spec.validate()
        for norm in spec.norms:
            spec.resolve({**runs.params, "norm": norm})
        json.dumps(spec.describe())
    except (LkadvError, TypeError, ValueError) as exc:
        raise ContractViolation("attack.metadata", f"attack {spec.name!r}: {exc}") from exc
    module = spec.factory.split(":")[0] if isinstance(spec.factory, str) else getattr(spec.factory, "__module__", "")
    if spec.backend == "lkadv" and not str(module).startswith("lkadv."):
        # Results name their backend; a plugin's own attack recorded as lkadv's credits the wrong code.
        raise ContractViolation(
            "attack.metadata",
            f"attack {spec.name!r} comes from {module!r} but declares backend='lkadv' (the default); set "
            "backend= and backend_version= to the implementation that runs it (your package and its version)",
        )


def _output(runs: _Runs) -> None:
    for norm, eps in runs.grid():
        runs.attack(norm, eps)


def _range(runs: _Runs) -> None:
    for norm, eps in runs.grid():
        out = runs.attack(norm, eps)
        lo, hi = float(out.min()), float(out.max())
        if lo < 0.0 or hi > 1.0:
            raise ContractViolation(
                "attack.range",
                f"attack {runs.spec.name!r} ({norm}, eps {eps:.6g}) returned pixels in [{lo:.6g}, {hi:.6g}], "
                "outside [0, 1]; clip inside the attack (the core never clips for you)",
            )


def _norm_bound(runs: _Runs) -> None:
    for norm, eps in runs.grid():
        out = runs.attack(norm, eps)
        size = perturbation_norm(out.double() - runs.x.double(), norm)
        limit = eps * (1 + REL_SLACK) + ABS_SLACK
        if bool((size > limit).any()):
            raise ContractViolation(
                "attack.norm-bound",
                f"attack {runs.spec.name!r}: largest ||x_adv - x||_{norm[1:]} = {float(size.max()):.8g} > eps = "
                f"{eps:.8g} on {int((size > limit).sum())} of {len(size)} samples",
            )


def _determinism(runs: _Runs) -> None:
    norm = runs.spec.norms[0]
    radii = runs.eps.get(norm, DEFAULT_EPS[norm])
    eps = radii[len(radii) // 2]
    first = runs.attack(norm, eps, seed=runs.seed, global_seed=1)
    second = runs.attack(norm, eps, seed=runs.seed, global_seed=2)
    if not torch.equal(first, second):
        diff = float((first - second).abs().max())
        raise ContractViolation(
            "attack.determinism",
            f"attack {runs.spec.name!r} ({norm}, eps {eps:.6g}): two runs with the same generator seed differ by "
            f"{diff:.3g}; draw every random number from the generator argument, never from torch's global RNG",
        )


_CHECKS: dict[str, Callable[[_Runs], None]] = {
    "attack.metadata": _metadata,
    "attack.output": _output,
    "attack.range": _range,
    "attack.norm-bound": _norm_bound,
    "attack.determinism": _determinism,
}


def check_attack(
    spec: AttackSpec,
    *,
    contracts: Iterable[str] | None = None,
    params: Mapping[str, Any] | None = None,
    classifier: nn.Module | None = None,
    images: torch.Tensor | None = None,
    eps: Mapping[str, tuple[float, ...]] | None = None,
    seed: int = 0,
) -> dict[str, str]:
    """Check an attack spec and the attacks its factory makes against the attack contracts.

    The attack runs on a tiny fixed classifier, under every norm it declares and
    a grid of radii per norm (:data:`DEFAULT_EPS`), labels being the classifier's
    own predictions (the core attacks only correctly classified samples).

    Args:
        spec: The attack spec, as the plugin registers it.
        contracts: Contract names to run (default: every ``attack.*`` contract).
        params: Parameter overrides (e.g. fewer steps, to keep the check fast).
        classifier: The model to attack (default: :func:`tiny_classifier`).
        images: Clean images in [0, 1] for ``classifier`` (default: 8 tiny images).
        eps: Radii per norm (default: :data:`DEFAULT_EPS`).
        seed: Generator seed.

    Returns:
        ``{contract: "ok"}`` in check order.

    Raises:
        ContractViolation: On the first broken contract, naming it and the value.
    """
    clf = classifier if classifier is not None else tiny_classifier()
    x = images if images is not None else tiny_images((3, 16, 16), n=8, seed=seed)
    runs = _Runs(spec, dict(params or {}), clf, x, dict(eps or {}), seed)
    return run_contracts("attack", contracts, lambda name: _CHECKS[name](runs))

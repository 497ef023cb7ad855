"""AutoAttack through pyautoattack (or the upstream ``autoattack`` module), stage by stage.

lkadv does not re-implement AutoAttack: it builds the backend's own
``AutoAttack`` object and calls its sub-attacks exactly as the backend's
``run_standard_evaluation`` does (same objects, same settings, same seed for
every batch, same order), but one sub-attack at a time as a *stage*. The
executor feeds each stage only the samples still unbroken, re-scores every
example in fp32 and records the per-sample flags in the ledger after each
stage, so an interrupted AutoAttack cell resumes at the stage where it
stopped. With the same samples, batch size and seed the robust accuracy equals
a direct ``run_standard_evaluation`` (tests/attacks/test_autoattack.py).

The backend seeds torch's global generator itself; each stage runs inside
``torch.random.fork_rng`` so nothing else in the process sees that.
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Mapping
from typing import Any, ClassVar

import torch
from torch import nn

from lkadv.attacks._aa_config import SubAttack, backend, format_ensemble
from lkadv.attacks._aa_config import ensemble as _ensemble
from lkadv.attacks._params import AUTOATTACK_PARAMS, bind
from lkadv.attacks._worst import run_sequential
from lkadv.errors import ConfigError
from lkadv.specs import AttackFn, Param

__all__ = ["AutoAttack"]

_NORMS = {"linf": "Linf", "l2": "L2", "l1": "L1"}


def _set_iterations(apgd: Any, n: int) -> None:
    # APGD derives its checkpoint lengths from n_iter in __init__: keep them consistent.
    apgd.n_iter = n
    apgd.n_iter_orig = n
    apgd.n_iter_2 = max(int(0.22 * n), 1)
    apgd.n_iter_min = max(int(0.06 * n), 1)
    apgd.size_decr = max(int(0.03 * n), 1)


class AutoAttack:
    """AutoAttack (Croce & Hein 2020) as lkadv stages.

    Args:
        norm: ``"linf"``, ``"l2"`` or ``"l1"``.
        **params: Any parameter of :data:`PARAMS`: the version (``standard``, ``plus``,
            ``rand`` or ``custom``) and, for ``custom``, the sub-attacks
            (``"apgd-ce+apgd-t"``), iterations, restarts, targets and Square's queries.
        ensemble: The expanded ensemble recorded in the threat identity, if given:
            checked against the one the settings give.

    Raises:
        ConfigError: On a bad configuration (see :func:`lkadv.attacks._aa_config.ensemble`).
    """

    PARAMS: ClassVar[Mapping[str, Param]] = AUTOATTACK_PARAMS

    def __init__(self, *, norm: str = "linf", ensemble: str | None = None, **params: Any) -> None:
        if norm not in _NORMS:
            raise ConfigError(f"AutoAttack supports norms {list(_NORMS)}, not {norm!r}")
        p = bind("autoattack", self.PARAMS, params)
        self.norm = norm
        self.version: str = p["version"]
        self.attacks: str | None = p["attacks"]
        tuning = (p["iterations"], p["restarts"], p["targets"], p["queries"])
        self.subs = _ensemble(self.version, norm, self.attacks, *tuning)
        self.description = format_ensemble(self.subs)
        if ensemble is not None and ensemble != self.description:
            raise ConfigError(f"AutoAttack asked to run {ensemble}, but its settings give {self.description}")
        self.module_name, self.backend_version = backend()

    # ------------------------------------------------------------------ public

    @property
    def stages(self) -> list[tuple[str, AttackFn]]:
        """One stage per sub-attack, in the ensemble's order."""
        return [(s.name, functools.partial(self._stage, s)) for s in self.subs]

    def __call__(
        self, classifier: nn.Module, x: torch.Tensor, y: torch.Tensor, eps: float, generator: torch.Generator
    ) -> torch.Tensor:
        """The whole ensemble on ``x`` (each sub-attack on the samples still correct)."""
        return run_sequential(self.stages, classifier, x, y, eps, generator)

    # ---------------------------------------------------------------- backend

    def _module(self) -> Any:
        try:
            return importlib.import_module(self.module_name)
        except ImportError as exc:
            raise ConfigError(
                "AutoAttack needs pyautoattack (a core dependency of lkadv): pip install pyautoattack"
            ) from exc

    def _adversary(self, classifier: nn.Module, eps: float, device: torch.device, seed: int) -> Any:
        module = self._module()
        custom = self.version == "custom"
        names = [s.name for s in self.subs]
        if self.module_name == "pyautoattack":
            adversary = module.AutoAttack(
                classifier,
                norm=_NORMS[self.norm],
                eps=eps,
                version=self.version,
                attacks=names if custom else None,
                device=device,
                seed=seed,
            )
        else:  # the upstream module: positional-or-keyword API, prints unless told not to
            adversary = module.AutoAttack(
                classifier,
                norm=_NORMS[self.norm],
                eps=eps,
                version=self.version,
                attacks_to_run=names if custom else [],
                device=device,
                seed=seed,
                verbose=False,
            )
        if custom:
            self._tune(adversary)
        self._verify(adversary)
        return adversary

    def _tune(self, adversary: Any) -> None:
        for sub in self.subs:
            if sub.name in ("apgd-ce", "apgd-dlr"):
                _set_iterations(adversary.apgd, sub.iterations)
                adversary.apgd.n_restarts = sub.restarts
            elif sub.name == "apgd-t":
                _set_iterations(adversary.apgd_targeted, sub.iterations)
                adversary.apgd_targeted.n_target_classes = sub.targets
            elif sub.name in ("fab", "fab-t"):
                adversary.fab.n_iter = sub.iterations
                adversary.fab.n_target_classes = sub.targets or adversary.fab.n_target_classes
                if sub.name == "fab":
                    adversary.fab.n_restarts = sub.restarts
            elif sub.name == "square":
                adversary.square.n_queries = sub.queries

    def _verify(self, adversary: Any) -> None:
        """The backend object must hold exactly the ensemble recorded in the threat identity."""
        seen: list[SubAttack] = []
        for sub in self.subs:
            if sub.name in ("apgd-ce", "apgd-dlr"):
                a = adversary.apgd
                seen.append(SubAttack(sub.name, a.n_iter, a.n_restarts, 0, 0, a.eot_iter, bool(a.use_largereps)))
            elif sub.name == "apgd-t":
                a = adversary.apgd_targeted
                seen.append(
                    SubAttack(sub.name, a.n_iter, a.n_restarts, a.n_target_classes, 0, a.eot_iter, a.use_largereps)
                )
            elif sub.name == "fab":
                f = adversary.fab
                seen.append(SubAttack(sub.name, f.n_iter, f.n_restarts))
            elif sub.name == "fab-t":
                f = adversary.fab  # the backend runs FAB-T with one restart
                seen.append(SubAttack(sub.name, f.n_iter, 1, f.n_target_classes))
            else:
                seen.append(SubAttack("square", queries=adversary.square.n_queries))
        if seen != self.subs:
            raise ConfigError(
                f"{self.module_name} {self.backend_version} does not run the recorded ensemble: "
                f"expected {self.description}, it is configured as {format_ensemble(seen)}"
            )

    def _stage(
        self,
        sub: SubAttack,
        classifier: nn.Module,
        x: torch.Tensor,
        y: torch.Tensor,
        eps: float,
        generator: torch.Generator,
    ) -> torch.Tensor:
        """One sub-attack on one batch, called exactly as the backend's own evaluation loop calls it."""
        if len(x) == 0:
            return x.detach().clone()
        seed = generator.initial_seed()  # the backend reuses one seed for every batch and sub-attack
        if sub.targets:
            with torch.no_grad():
                classes = classifier(x[:1]).shape[1]
            if sub.targets >= classes:
                raise ConfigError(
                    f"AutoAttack's {sub.name} tries {sub.targets} target classes, but the model has {classes} "
                    f"classes; the reference ensemble keeps 9 targets, so use version=custom with "
                    f"targets={classes - 1} (recorded in the threat identity)"
                )
        adversary = self._adversary(classifier, eps, x.device, seed)
        devices = [x.device] if x.device.type == "cuda" else []
        with torch.random.fork_rng(devices=devices), torch.no_grad():
            x, y = x.detach().clone(), y.detach().clone()
            if sub.name in ("apgd-ce", "apgd-dlr"):
                adversary.apgd.loss = "ce" if sub.name == "apgd-ce" else "dlr"
                adversary.apgd.seed = seed
                out = adversary.apgd.perturb(x, y)
            elif sub.name == "apgd-t":
                adversary.apgd_targeted.seed = seed
                out = adversary.apgd_targeted.perturb(x, y)
            elif sub.name == "fab":
                adversary.fab.targeted = False
                adversary.fab.seed = seed
                out = adversary.fab.perturb(x, y)
            elif sub.name == "fab-t":
                adversary.fab.targeted = True
                adversary.fab.n_restarts = 1
                adversary.fab.seed = seed
                out = adversary.fab.perturb(x, y)
            else:
                adversary.square.seed = seed
                out = adversary.square.perturb(x, y)
        return out.detach()

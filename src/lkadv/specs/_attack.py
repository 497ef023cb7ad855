"""The attack contract: a named, fully parameterized perturbation search."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from lkadv.config import parse_bool
from lkadv.errors import ConfigError
from lkadv.specs._common import check, check_factory, check_name

if TYPE_CHECKING:
    import torch

__all__ = ["NORMS", "AttackFn", "AttackSpec", "Param"]

NORMS = ("linf", "l2", "l1", "l0")
"""Threat models: L-inf, L2 and L1 balls in pixel units; L0 counts changed pixels (spatial positions)."""


class AttackFn(Protocol):
    """What an attack factory returns.

    Called as ``attack(classifier, x, y, eps, generator)`` with ``x`` float NCHW
    in [0, 1] on the classifier's device, ``y`` int64 labels, ``eps`` the radius
    in pixel units and a ``torch.Generator`` for every random draw. Returns
    ``x_adv`` of ``x``'s shape; the core checks ``||x_adv - x||_p <= eps`` and
    ``x_adv`` in [0, 1] and fails the run otherwise.

    An attack made of several sub-attacks run one after another on the samples
    still unbroken (AutoAttack, a worst-of ensemble) may also expose ``stages``:
    a list of ``(name, AttackFn)``. The executor then runs stage by stage,
    re-scores every stage's examples in fp32, feeds the next stage only the
    samples still standing and records progress after each stage, so an
    interrupted cell resumes at the stage where it stopped.
    """

    def __call__(
        self,
        classifier: torch.nn.Module,
        x: torch.Tensor,
        y: torch.Tensor,
        eps: float,
        generator: torch.Generator,
    ) -> torch.Tensor:
        """Return adversarial examples for ``x``."""
        ...


_TYPES: dict[str, type] = {"int": int, "float": float, "bool": bool, "str": str}


@dataclass(frozen=True, kw_only=True)
class Param:
    """One attack parameter: its type, default and allowed values.

    Attributes:
        default: Default value (``None`` allowed only if ``nullable``).
        type: ``"int"``, ``"float"``, ``"bool"`` or ``"str"``.
        help: One line of documentation.
        choices: Allowed values, if a closed set.
        minimum: Smallest allowed number.
        nullable: Whether ``None`` (``"none"`` on the command line) is allowed.
    """

    default: Any
    type: str
    help: str = ""
    choices: tuple[Any, ...] = ()
    minimum: float | None = None
    nullable: bool = False

    def parse(self, name: str, value: Any) -> Any:
        """Convert and check a value (strings from the CLI or TOML values).

        Args:
            name: Parameter name, for messages.
            value: Raw value.

        Returns:
            The typed value.

        Raises:
            ConfigError: If the value has the wrong type or is out of range.
        """
        if value is None or (isinstance(value, str) and value.lower() in ("none", "null") and self.nullable):
            if self.nullable:
                return None
            raise ConfigError(f"parameter {name!r} cannot be none")
        typ = _TYPES[self.type]
        try:
            if typ is bool and isinstance(value, str):
                out: Any = parse_bool(value, f"parameter {name!r}")
            elif typ is float and isinstance(value, str) and "/" in value:
                num, den = value.split("/", 1)
                out = float(num) / float(den)
            elif typ is int and isinstance(value, float) and not value.is_integer():
                raise ValueError(value)
            else:
                out = typ(value)
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"parameter {name!r} expects {self.type}, got {value!r}") from exc
        if self.choices and out not in self.choices:
            raise ConfigError(f"parameter {name!r} must be one of {list(self.choices)}, got {out!r}")
        if self.minimum is not None and out < self.minimum:
            raise ConfigError(f"parameter {name!r} must be >= {self.minimum}, got {out!r}")
        return out


@dataclass(frozen=True, kw_only=True)
class AttackSpec:
    """A registered attack.

    Attributes:
        name: Registry name.
        norms: Norms the attack supports; the first is the default. The resolved
            configuration always holds a ``norm`` entry.
        factory: Callable (or ``module:attribute``) taking the resolved parameters
            as keywords (``norm`` included) and returning an :class:`AttackFn`.
        params: Parameter schema with defaults (``norm`` is implied).
        backend: Implementation that runs it (``"lkadv"``, ``"pyautoattack"``...).
        backend_version: Version of that implementation, recorded with results.
        tags: Selector tags (``"white-box"``, ``"gradient"``...).
        description: One line for listings.
        short: Parameters worth showing in compact column labels.
        expand: Optional callable (or ``module:attribute``, importable without
            torch) that takes the resolved configuration and returns entries to
            add to it, derived from the parameters: for example the exact
            ensemble an AutoAttack ``version`` stands for. Added entries become
            part of the threat's identity; only declared parameters reach the factory.
        composite: The attack runs other registered attacks: its ``members``
            parameter lists them (``name`` or ``name:param=value:...``, joined by
            ``+``). The planner resolves each member at the composite's norm and
            the factory receives ``members`` as a list of ``(threat id, AttackFn)``.
    """

    name: str
    norms: tuple[str, ...]
    factory: Callable[..., AttackFn] | str
    params: Mapping[str, Param] = field(default_factory=dict)
    backend: str = "lkadv"
    backend_version: str = ""
    tags: frozenset[str] = frozenset()
    description: str = ""
    short: tuple[str, ...] = ()
    expand: Callable[[dict[str, Any]], dict[str, Any]] | str | None = None
    composite: bool = False

    def validate(self) -> None:
        """Check every field against the contract.

        Raises:
            SpecError: Naming the spec and the offending field.
        """
        kind, n = "AttackSpec", self.name
        check_name(kind, n)
        check(
            bool(self.norms) and all(v in NORMS for v in self.norms),
            kind,
            n,
            "norms",
            f"must be a non-empty subset of {NORMS}, got {self.norms!r}",
        )
        check_factory(kind, n, self.factory)
        check("norm" not in self.params, kind, n, "params", "must not declare 'norm' (it comes from 'norms')")
        for pname, param in self.params.items():
            check(param.type in _TYPES, kind, n, f"params.{pname}", f"has unknown type {param.type!r}")
            if param.default is not None or not param.nullable:
                try:
                    param.parse(pname, param.default)
                except ConfigError as exc:
                    check(False, kind, n, f"params.{pname}", f"has an invalid default: {exc}")
        check(isinstance(self.tags, frozenset), kind, n, "tags", "must be a frozenset of strings")
        if self.expand is not None:
            check_factory(kind, n, self.expand, "expand")
        if self.composite:
            members = self.params.get("members")
            check(
                members is not None and members.type == "str",
                kind,
                n,
                "params",
                "of a composite attack must declare a 'members' parameter of type str",
            )

    def resolve(self, overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """The full configuration: defaults, then ``overrides``, every value checked.

        Args:
            overrides: User values by parameter name (``norm`` included).

        Returns:
            A dict with ``norm`` and every declared parameter.

        Raises:
            ConfigError: On an unknown parameter or a bad value.
        """
        overrides = dict(overrides or {})
        norm = str(overrides.pop("norm", self.norms[0])).lower()
        if norm not in self.norms:
            raise ConfigError(f"attack {self.name!r} supports norms {list(self.norms)}, not {norm!r}")
        unknown = sorted(set(overrides) - set(self.params))
        if unknown:
            raise ConfigError(
                f"attack {self.name!r} has no parameter(s) {unknown}; it takes {[*sorted(self.params), 'norm']}"
            )
        config: dict[str, Any] = {"norm": norm}
        for pname, param in self.params.items():
            config[pname] = param.parse(pname, overrides.get(pname, param.default))
        if self.expand is not None:
            from lkadv.types import resolve

            expand = resolve(self.expand)
            extra = expand(dict(config))
            clash = sorted(set(extra) & set(config))
            if clash:
                raise ConfigError(f"attack {self.name!r}: its expand function overwrote parameter(s) {clash}")
            config.update(extra)
        return config

    def describe(self) -> dict[str, Any]:
        """A JSON-ready description, including the default full configuration."""
        return {
            "name": self.name,
            "norms": list(self.norms),
            "backend": self.backend,
            "backend_version": self.backend_version,
            "params": {
                "norm": {
                    "default": self.norms[0],
                    "type": "str",
                    "help": f"the threat model's norm (on the command line: --attack-param {self.name}.norm=...)",
                    "choices": list(self.norms),
                },
                **{
                    k: {"default": p.default, "type": p.type, "help": p.help, "choices": list(p.choices)}
                    for k, p in self.params.items()
                },
            },
            "default_config": {**self.resolve(), "backend": self.backend, "backend_version": self.backend_version},
            "tags": sorted(self.tags),
            "description": self.description,
        }

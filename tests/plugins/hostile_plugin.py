"""A hostile plugin: every kind of plugin code raises, returns NaN, or returns text meant to be interpreted.

Load it beside the toy plugin: ``lkadv -p tests.toy_plugin -p tests.plugins.hostile_plugin``.
"""

from __future__ import annotations

import torch

from lkadv import AttackSpec, CorruptionSpec, DatasetSpec, ModelSpec, hookimpl
from lkadv.metrics import ReportSection
from tests.conftest import TinyNet

# Rich markup, a live hyperlink, ANSI colour, a markdown cell break, a newline, a spreadsheet formula.
HOSTILE = "[bold red]MARKUP[/] [link=https://example.invalid]x[/link] \x1b[31mRED\x1b[0m a|b\nc =cmd|' /C calc'!A0"


def _raise(*_args: object, **_kwargs: object) -> torch.nn.Module:
    raise RuntimeError(HOSTILE)


class _NaN(TinyNet):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return super().forward(x) * float("nan")


class _ForwardRaises(TinyNet):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        raise ValueError(HOSTILE)


def _model(name: str, factory: object, family: str = "tiny") -> ModelSpec:
    return ModelSpec(
        name=name,
        family=family,
        factory=factory,
        label_space="toy",
        num_classes=4,
        input_size=(1, 8, 8),
        mean=(0.5,),
        std=(0.25,),
        tags=frozenset({"hostile"}),
        description=HOSTILE,
    )


@hookimpl
def lkadv_register_models(registry):
    registry.register(_model("h-model", lambda: TinyNet(classes=4), family=HOSTILE))
    registry.register(_model("h-raise", _raise))
    registry.register(_model("h-nan", lambda: _NaN(classes=4)))
    registry.register(_model("h-forward", lambda: _ForwardRaises(classes=4)))


def _attack_raises(norm: str = "linf"):
    def attack(classifier, x, y, eps, generator):
        raise ValueError(HOSTILE)

    return attack


def _identity(norm: str = "linf"):
    def attack(classifier, x, y, eps, generator):
        return x.clone()

    return attack


@hookimpl
def lkadv_register_attacks(registry):
    registry.register(AttackSpec(name="h-raise", norms=("linf",), factory=_attack_raises, description=HOSTILE))
    registry.register(AttackSpec(name="h-identity", norms=("linf",), factory=_identity, description=HOSTILE))


def _corruption_raises(x, severity, generator):
    raise RuntimeError(HOSTILE)


def _corruption_nan(x, severity, generator):
    return torch.full_like(x, float("nan"))


@hookimpl
def lkadv_register_corruptions(registry):
    registry.register(CorruptionSpec(name="h_raise", fn=_corruption_raises, description=HOSTILE))
    registry.register(CorruptionSpec(name="h_nan", fn=_corruption_nan, description=HOSTILE))


def _loader_raises(root, preprocessing):
    raise OSError(HOSTILE)


@hookimpl
def lkadv_register_datasets(registry):
    registry.register(
        DatasetSpec(
            name="h-data",
            label_space="toy",
            num_classes=4,
            loader=_loader_raises,
            shipped=True,
            default_limit=None,
            default_eps={"linf": (0.03,)},
            description=HOSTILE,
        )
    )


@hookimpl
def lkadv_report_sections(summary, ledger):
    return [
        ReportSection(
            title=HOSTILE, columns=["model", HOSTILE], rows=[[HOSTILE, HOSTILE]], notes=[HOSTILE], key="hostile"
        )
    ]


@hookimpl
def lkadv_unit_finished(unit, outcome):
    raise RuntimeError(HOSTILE)

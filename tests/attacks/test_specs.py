"""Every built-in attack's spec is its implementation's own parameter table."""

import inspect

import pytest

from lkadv.attacks import build_attack
from lkadv.errors import ConfigError
from lkadv.plugins import PluginHost
from lkadv.types import resolve

HOST = PluginHost(entry_points=False)
SPECS = list(HOST.registries.attacks)


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.name)
def test_the_spec_declares_exactly_the_implementations_parameters(spec):
    factory = resolve(spec.factory)
    assert dict(factory.PARAMS) == dict(spec.params)
    signature = inspect.signature(factory.__init__).parameters
    # Declared once: the table, not the signature, holds each parameter (the signature takes **params).
    repeated = set(signature) & set(spec.params) - {"members"}
    assert not repeated, f"{spec.name}: {sorted(repeated)} also declared in the signature"


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.name)
def test_defaults_build_the_attack_with_the_declared_values(spec):
    if spec.name == "autoattack":
        pytest.importorskip("pyautoattack")
    config = spec.resolve()
    attack = build_attack(spec, config, HOST.registries.attacks.get)
    for name, value in config.items():
        if hasattr(attack, name) and name not in ("members", "loss", "attacks"):
            assert getattr(attack, name) == value, (spec.name, name)


def test_an_undeclared_or_bad_parameter_is_refused_by_the_implementation():
    from lkadv.attacks import PGD

    with pytest.raises(ConfigError, match="has no parameter"):
        PGD(stepz=3)
    with pytest.raises(ConfigError, match="must be one of"):
        PGD(schedule="sometimes")
    assert PGD(steps="7").steps == 7  # parsed as the CLI parses it

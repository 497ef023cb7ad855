"""The kit against the example plugin (plugins/lkadv-example) and broken copies of it.

Each copy breaks one contract the way plugin authors do, and the kit must fail it
with a message that starts with that contract's name.
"""

import dataclasses
import sys
import types
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from lkadv import hookimpl
from lkadv.testing import ContractViolation, check_plugin

EXAMPLE_SRC = Path(__file__).resolve().parents[2] / "plugins" / "lkadv-example" / "src"


@pytest.fixture(scope="module")
def example():
    """The example plugin module, imported from its source tree (no install needed)."""
    sys.path.insert(0, str(EXAMPLE_SRC))
    try:
        import lkadv_example

        yield lkadv_example
    finally:
        sys.path.remove(str(EXAMPLE_SRC))


def specs_of(example):
    """The example's three specs, as it registers them."""
    got = {}

    class Collect:
        def register(self, spec):
            got[spec.name] = spec

    for hook in ("lkadv_register_models", "lkadv_register_attacks", "lkadv_register_corruptions"):
        getattr(example, hook)(Collect())
    return got["example-repcnn"], got["example-random-noise"], got["example-posterize"]


def copy_with(example, *, model=None, attack=None, corruption=None):
    """A plugin object registering the example's specs, some replaced by broken ones."""
    m, a, c = specs_of(example)
    model, attack, corruption = model or m, attack or a, corruption or c
    return types.SimpleNamespace(
        __name__="broken-example",
        lkadv_register_models=hookimpl(lambda registry: registry.register(model)),
        lkadv_register_attacks=hookimpl(lambda registry: registry.register(attack)),
        lkadv_register_corruptions=hookimpl(lambda registry: registry.register(corruption)),
    )


FAST = {"example-random-noise": {"draws": 2}}


def test_the_example_passes_every_contract(example):
    report = check_plugin(example, attack_params=FAST)
    assert report["example-repcnn"]["model.normalization-inside"] == "ok"  # really checked, on Fashion-MNIST
    assert all(v == "ok" for checks in report.values() for v in checks.values()), report
    assert sum(len(v) for v in report.values()) == 9 + 5 + 6


def test_normalization_outside_the_model_is_caught(example):
    # The author normalized in a data pipeline and registered identity statistics.
    model, _, _ = specs_of(example)
    broken = copy_with(example, model=dataclasses.replace(model, mean=(0.0,), std=(1.0,)))
    with pytest.raises(ContractViolation) as err:
        check_plugin(broken, attack_params=FAST)
    assert str(err.value).startswith("model.normalization-inside: model 'example-repcnn': accuracy on 256 images")
    assert "with the spec's mean (0.0,) / std (1.0,)" in str(err.value)


def test_normalization_done_twice_is_caught(example):
    model, _, _ = specs_of(example)
    from lkadv_example._model import load_pretrained

    class NormalizesItself(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.net = load_pretrained()

        def forward(self, x):
            return self.net((x - 0.2860) / 0.3530)

    broken = copy_with(example, model=dataclasses.replace(model, factory=NormalizesItself))
    with pytest.raises(ContractViolation, match=r"^model\.normalization-inside: .*normalize a second time"):
        check_plugin(broken, attack_params=FAST)


def test_train_mode_left_on_is_caught(example):
    model, _, _ = specs_of(example)
    from lkadv_example._model import RepCNN, load_pretrained

    class WithDropout(RepCNN):
        def forward(self, x):
            # F.dropout defaults to training=True: dropout stays on whatever eval() says.
            return super().forward(F.dropout(x, 0.1))

    def factory():
        net = WithDropout()
        net.load_state_dict(load_pretrained().state_dict())
        return net.train()

    broken = copy_with(example, model=dataclasses.replace(model, factory=factory))
    with pytest.raises(ContractViolation, match=r"^model\.eval-mode: model 'example-repcnn': the same input gave"):
        check_plugin(broken, attack_params=FAST)


def test_an_attack_that_exceeds_eps_is_caught(example):
    _, attack, _ = specs_of(example)
    from lkadv_example._attack import RandomNoise

    def too_far(norm="linf", draws=8):
        inner = RandomNoise(norm, draws)
        return lambda classifier, x, y, eps, generator: inner(classifier, x, y, 1.5 * eps, generator)

    broken = copy_with(example, attack=dataclasses.replace(attack, factory=too_far))
    with pytest.raises(ContractViolation, match=r"^attack\.norm-bound: attack 'example-random-noise': largest"):
        check_plugin(broken, attack_params=FAST)


def test_a_corruption_that_leaves_the_unit_range_is_caught(example):
    _, _, corruption = specs_of(example)
    from lkadv_example._corruption import posterize

    def brighter(x, severity, generator):
        return posterize(x, severity, generator) + 0.05  # forgot to clamp

    broken = copy_with(example, corruption=dataclasses.replace(corruption, fn=brighter))
    with pytest.raises(ContractViolation, match=r"^corruption\.range: corruption 'example-posterize' \(severity 1\)"):
        check_plugin(broken, attack_params=FAST)

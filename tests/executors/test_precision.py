"""Mixed precision: fp16 gradient underflow is flagged, and fp32 re-scoring keeps robust accuracy honest."""

import numpy as np
import pytest
import torch

from lkadv import DatasetSpec, ModelSpec, hookimpl
from lkadv.config import load_options
from lkadv.datasets import ArrayImageSet
from lkadv.plugins import PluginHost
from lkadv.runner import run
from lkadv.store import Ledger


class Saturated(torch.nn.Module):
    """Class scores through saturated tanh units.

    ``d tanh(u)/du = 1 - tanh(u)^2``: in fp16, tanh(u) rounds to exactly 1 from u ~ 4.5 on, so
    the gradient is exactly 0; in fp32 it is tiny but non-zero and its sign still points the way.
    """

    def __init__(self) -> None:
        super().__init__()
        g = torch.Generator().manual_seed(0)
        self.v = torch.nn.Linear(64, 4)
        self.w = torch.nn.Linear(4, 4, bias=False)
        with torch.no_grad():
            self.v.weight.copy_(torch.randn(4, 64, generator=g) / 8)
            self.v.bias.zero_()
            self.w.weight.copy_(torch.eye(4) * 3)

    def forward(self, x):
        return self.w(torch.tanh(20 * self.v(x.flatten(1) - 0.5)))


class Offset(torch.nn.Module):
    """Small logit differences on top of a large constant: fp16 (spacing 0.5 at 1000) ties them all."""

    def __init__(self) -> None:
        super().__init__()
        masks = torch.zeros(4, 8, 8)
        for c in range(4):
            r, q = divmod(c, 2)
            masks[c, 4 * r : 4 * r + 4, 4 * q : 4 * q + 4] = 1
        self.lin = torch.nn.Linear(64, 4)
        with torch.no_grad():
            self.lin.weight.copy_(0.02 * (masks - masks.mean(0)).flatten(1))
            self.lin.bias.zero_()

    def forward(self, x):
        return (self.lin(x.flatten(1)) + 1000.0) - 1000.0


_NETS = {"toy-saturated": Saturated, "toy-offset": Offset}


def _self_labelled(name):
    # Random images labelled by the model itself in fp32: every sample is correct when clean.
    def load(root, preprocessing):
        images = np.random.default_rng(0).integers(0, 256, size=(256, 8, 8), dtype=np.uint8)
        with torch.no_grad():
            labels = _NETS[name]()(torch.from_numpy(images).float().div(255)[:, None]).argmax(1).numpy()
        return ArrayImageSet(images, labels, [f"{name}/{i}" for i in range(256)], preprocessing)

    return load


class _Plugin:
    @staticmethod
    @hookimpl
    def lkadv_register_datasets(registry):
        for name in _NETS:
            registry.register(
                DatasetSpec(
                    name=f"{name}-data",
                    label_space=name,
                    num_classes=4,
                    loader=_self_labelled(name),
                    shipped=True,
                    default_limit=None,
                    default_eps={"linf": (0.1,)},
                    default_batch_size=128,
                )
            )

    @staticmethod
    @hookimpl
    def lkadv_register_models(registry):
        for name, cls in _NETS.items():
            registry.register(
                ModelSpec(
                    name=name,
                    family="tiny",
                    factory=cls,
                    label_space=name,
                    num_classes=4,
                    input_size=(1, 8, 8),
                    mean=(0.0,),
                    std=(1.0,),
                    tags=frozenset({"precision-test"}),
                )
            )


@pytest.fixture(scope="module")
def host():
    return PluginHost(entry_points=False, extra=[("precision", _Plugin)])


def _run(tmp_path, host, model, precision, eps="0.1"):
    opts = load_options(
        dict(
            models=model,
            dataset=f"{model}-data",
            attacks="pgd",
            eps=eps,
            limit=0,
            precision=precision,
            shadow_samples=64,
            run_dir=tmp_path / precision,
            device="cpu",
        ),
        env={},
        config_file=None,
    )
    result = run(opts, host=host)
    assert not result.failures, result.failures
    cell = next(c for c in result.summary.cells if c.kind == "attack")
    with Ledger(tmp_path / precision) as ledger:
        infos = ledger.unit_infos(cell.key)
    return result, cell, infos


def _flags(result):
    section = next(s for s in result.summary.sections if s.key == "sanity")
    return {(row[1], row[2]) for row in section.rows}


def test_fp16_gradient_underflow_is_flagged_and_measured(tmp_path, host):
    _, cell32, _ = _run(tmp_path, host, "toy-saturated", "fp32")
    fp16, cell16, infos = _run(tmp_path, host, "toy-saturated", "fp16")
    zero16 = sum(i["gradients"]["zero_rows"] for i in infos)
    assert zero16 > 0  # the fp16 gradients vanished for many samples...
    assert ("no all-zero gradient during the attack", "FLAG") in _flags(fp16)  # ...and the report says so
    shadow = next(i["shadow"] for i in infos if "shadow" in i)
    assert shadow["robust_reduced"] > shadow["robust_fp32"]  # the weakened attack, measured on the same samples
    assert cell16.info["shadow"] == {**shadow, "precision": "fp16"}  # in the cell's result too (exports)
    assert ("reduced precision does not weaken the attack", "FLAG") in _flags(fp16)
    precision = next(s for s in fp16.summary.sections if s.key == "precision")
    assert precision.rows[0][6] == pytest.approx(100 * shadow["divergence"]) and precision.rows[0][6] > 0
    # The same threat at fp32 is a different, stronger cell: fp16 robust accuracy is inflated.
    assert cell16.accuracy.value > cell32.accuracy.value


def test_fp32_rescoring_rejects_what_fp16_calls_adversarial(tmp_path, host):
    fp16, cell16, infos = _run(tmp_path, host, "toy-offset", "fp16", eps="0.02")
    precision = infos[0]["precision"]
    assert precision["claimed"] > 0 and precision["rejected_by_fp32"] > 0
    attacked = sum(i["attacked"] for i in infos)
    # Counting the fp16 claims would have given this robust accuracy; fp32 re-scoring refuses it.
    claimed_robust = (attacked - precision["claimed"]) / cell16.accuracy.n
    assert cell16.accuracy.value > claimed_robust
    _, cell32, _ = _run(tmp_path, host, "toy-offset", "fp32", eps="0.02")
    assert cell16.accuracy.value >= cell32.accuracy.value  # never below what an fp32 attack finds here
    assert ("reduced-precision examples hold in fp32", "FLAG") in _flags(fp16)


def test_bf16_runs_and_reports_its_divergence(tmp_path, host):
    result, _, infos = _run(tmp_path, host, "toy-saturated", "bf16")
    assert infos[0]["precision"]["attack"] == "bf16"
    section = next(s for s in result.summary.sections if s.key == "precision")
    assert section.rows[0][2] == "bf16" and section.rows[0][3] == 64


def _fp32_cheat(norm="linf"):
    # Honest at reduced precision, far outside the ball only when it runs at fp32 (the shadow's fp32 pass).
    def attack(classifier, x, y, eps, generator):
        if getattr(classifier, "precision", "fp32") == "fp32":
            return (x + 0.5).clamp(0, 1)
        return x.clone()

    return attack


class _CheatPlugin:
    @staticmethod
    @hookimpl
    def lkadv_register_attacks(registry):
        from lkadv import AttackSpec

        registry.register(AttackSpec(name="fp32-cheat", norms=("linf",), factory=_fp32_cheat, description="test"))


def test_the_fp32_shadow_examples_are_checked_against_the_ball(tmp_path):
    host = PluginHost(entry_points=False, extra=[("precision", _Plugin), ("cheat", _CheatPlugin)])
    opts = load_options(
        dict(
            models="toy-offset",
            dataset="toy-offset-data",
            attacks="fp32-cheat",
            eps="0.01",
            limit=0,
            precision="bf16",
            shadow_samples=16,
            run_dir=tmp_path,
            device="cpu",
        ),
        env={},
        config_file=None,
    )
    result = run(opts, host=host)
    errors = [result.failures[c.key] for c in result.plan.cells if c.threat.kind == "attack"]
    assert len(errors) == 1 and "shadow (fp32)" in errors[0] and "linf budget" in errors[0]

"""The attack report sections: sanity flags that fire when they should, and only then."""

import types

import numpy as np
import pytest
import torch

from lkadv import ModelSpec, hookimpl
from lkadv.attacks._report import sanity_section
from lkadv.config import load_options
from lkadv.metrics import CellResult, Summary, accuracy
from lkadv.plugins import PluginHost
from lkadv.runner import run
from tests import toy_plugin


class Quantized(torch.nn.Module):
    """Gradient masking by rounding the input: the gradient is zero everywhere."""

    def forward(self, x):
        q = torch.round(x.flatten(1) * 2) / 2
        w = torch.linspace(-1, 1, q.shape[1])
        return torch.stack([q @ w, -(q @ w), q.mean(1), -q.mean(1)], 1)


class _Plugin:
    @staticmethod
    @hookimpl
    def lkadv_register_models(registry):
        registry.register(
            ModelSpec(
                name="toy-masked",
                family="tiny",
                factory=Quantized,
                label_space="toy",
                num_classes=4,
                input_size=(1, 8, 8),
                mean=(0.0,),
                std=(1.0,),
            )
        )


@pytest.fixture(scope="module")
def host():
    return PluginHost(entry_points=False, extra=[("toy", toy_plugin), ("masked", _Plugin)])


def _flags(result):
    section = next(s for s in result.summary.sections if s.key == "sanity")
    return {(row[0], row[1]) for row in section.rows if row[2] == "FLAG"}


def test_gradient_masking_raises_the_gradient_and_large_eps_flags(tmp_path, host):
    opts = load_options(
        dict(models="toy-masked,toy-0", dataset="toy", attacks="pgd", eps="0.05", limit=64, run_dir=tmp_path),
        env={},
        config_file=None,
    )
    flags = _flags(run(opts, host=host))
    assert ("toy-masked", "no all-zero input gradient (clean points)") in flags
    assert ("toy-masked", "L-inf eps 0.5 brings accuracy to chance") in flags
    assert ("toy-masked", "no all-zero gradient during the attack") in flags
    assert not {f for f in flags if f[0] == "toy-0"}  # the honest model raises nothing


def test_fgsm_beating_a_broken_pgd_is_flagged(tmp_path, host):
    params = {"pgd": {"steps": 1, "rel_step": 0, "random_start": False}}  # PGD that does nothing
    flags = dict(models="toy-0", dataset="toy", attacks="pgd,fgsm", eps="0.1", limit=64, run_dir=tmp_path)
    opts = load_options({**flags, "attack_params": params}, env={}, config_file=None)
    assert ("toy-0", "FGSM never beats PGD") in _flags(run(opts, host=host))


def _cell(key, label, name, eps, k, n=100):
    correct = np.zeros(n, bool)
    correct[:k] = True
    return CellResult(key, "m", "f", "attack", name, label, f"{name}[{key}]@eps={eps}", eps, None, "done", 1, 1,
                      accuracy(correct), 0.0, {})  # fmt: skip


def test_more_steps_raising_robust_accuracy_is_flagged():
    cells = [_cell("a", "pgd(steps=1)@0.1", "pgd", 0.1, 40), _cell("b", "pgd(steps=8)@0.1", "pgd", 0.1, 45)]
    configs = {"a": {"steps": 1, "restarts": 1, "norm": "linf"}, "b": {"steps": 8, "restarts": 1, "norm": "linf"}}
    ledger = types.SimpleNamespace(
        cells=lambda run_id: [types.SimpleNamespace(key=k, threat={"config": v}) for k, v in configs.items()],
        unit_infos=lambda key: [],
    )
    summary = Summary({"id": 1}, "d", {}, [("m", "f")], [c.label for c in cells], cells)
    section = sanity_section(summary, ledger)
    assert [r[1:3] for r in section.rows] == [["more steps or restarts never raise robust accuracy", "FLAG"]]
    summary.cells[1] = _cell("b", "pgd(steps=8)@0.1", "pgd", 0.1, 30)
    assert sanity_section(summary, ledger).rows[0][2] == "ok"

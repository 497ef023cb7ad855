"""A cell's key follows what was really loaded: weights, code, plugin version and preprocessing."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file, save_file

from lkadv import ModelSpec, hookimpl
from lkadv.config import load_options
from lkadv.models import identify_network
from lkadv.plugins import PluginHost
from lkadv.runner import run
from tests import toy_plugin
from tests.conftest import TinyNet, make_distribution


def _opts(run_dir: Path, models: str = "file-model") -> object:
    return load_options({"models": models, "dataset": "toy", "run_dir": run_dir}, env={}, config_file=None)


def _file_plugin(path: Path, **spec_fields: object) -> object:
    """A plugin whose model reads its weights from ``path`` and declares no weights_id."""

    def factory() -> torch.nn.Module:
        net = TinyNet(classes=4)
        net.load_state_dict(load_file(str(path)))
        return net

    class Plugin:
        @hookimpl
        def lkadv_register_models(self, registry):
            fields = dict(mean=(0.5,), std=(0.25,))
            fields.update(spec_fields)
            registry.register(
                ModelSpec(
                    name="file-model",
                    family="tiny",
                    factory=factory,
                    label_space="toy",
                    num_classes=4,
                    input_size=(1, 8, 8),
                    **fields,
                )
            )

    return Plugin()


def _host(plugin: object) -> PluginHost:
    return PluginHost(entry_points=False, extra=[("toy", toy_plugin), ("file", plugin)])


@pytest.fixture
def weights(tmp_path: Path) -> Path:
    path = tmp_path / "w.safetensors"
    save_file(toy_plugin.toy_model(0).state_dict(), str(path))
    return path


def test_changed_weights_behind_the_same_name_recompute(tmp_path: Path, weights: Path) -> None:
    host = _host(_file_plugin(weights))
    first = run(_opts(tmp_path / "run"), host=host)
    assert first.computed_units > 0 and not first.failures
    again = run(_opts(tmp_path / "run"), host=host)
    assert again.computed_units == 0  # unchanged weights: every cell reused

    state = load_file(str(weights))
    gen = torch.Generator().manual_seed(1)
    # noise on the learnt weights (a running variance must stay positive)
    noisy = {
        k: v + torch.randn(v.shape, generator=gen) if k.endswith(("weight", "bias")) else v for k, v in state.items()
    }
    save_file(noisy, str(weights))
    changed = run(_opts(tmp_path / "run"), host=host)
    assert changed.reused_units == 0 and changed.computed_units == first.computed_units
    assert {c.key for c in changed.plan.cells}.isdisjoint({c.key for c in first.plan.cells})
    fresh = run(_opts(tmp_path / "fresh"), host=host)
    accuracy = lambda r: [c.accuracy.value for c in r.summary.cells]  # noqa: E731
    assert accuracy(changed) == accuracy(fresh)  # the rerun equals a run in a new directory
    assert accuracy(changed) != accuracy(first)


def test_changed_normalization_recomputes(tmp_path: Path, weights: Path) -> None:
    first = run(_opts(tmp_path / "run"), host=_host(_file_plugin(weights)))
    moved = run(_opts(tmp_path / "run"), host=_host(_file_plugin(weights, mean=(0.4,))))
    assert moved.reused_units == 0 and moved.computed_units == first.computed_units


def test_changed_preprocessing_recomputes(tmp_path: Path, weights: Path) -> None:
    first = run(_opts(tmp_path / "run"), host=_host(_file_plugin(weights)))
    moved = run(_opts(tmp_path / "run"), host=_host(_file_plugin(weights, interpolation="bilinear")))
    assert moved.reused_units == 0 and moved.computed_units == first.computed_units
    same = run(_opts(tmp_path / "run"), host=_host(_file_plugin(weights)))
    assert same.computed_units == 0


_PLUGIN_SOURCE = """
import torch
from lkadv import ModelSpec, hookimpl

class Net(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = torch.nn.Linear(64, 4)
        torch.nn.init.constant_(self.fc.weight, 0.01)
        torch.nn.init.zeros_(self.fc.bias)

    def forward(self, x):
        return self.fc(x.flatten(1)){tail}

def make():
    return Net()

@hookimpl
def lkadv_register_models(registry):
    registry.register(ModelSpec(name="dist-model", family="tiny", factory=make, label_space="toy",
                                num_classes=4, input_size=(1, 8, 8), mean=(0.5,), std=(0.25,)))
"""


def _install(root: Path, version: str, tail: str = "") -> PluginHost:
    for info in root.glob("*.dist-info"):
        for f in info.iterdir():
            f.unlink()
        info.rmdir()
    make_distribution(
        root,
        "lkadv-distmodel",
        version,
        {"distmodel": "lkadv_fake_distmodel"},
        {"lkadv_fake_distmodel": _PLUGIN_SOURCE.replace("{tail}", tail)},
    )
    sys.modules.pop("lkadv_fake_distmodel", None)
    importlib.invalidate_caches()
    return PluginHost(extra=[("toy", toy_plugin)], only=["distmodel", "toy"])


def test_changed_plugin_version_or_code_recompute(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "site"
    root.mkdir()
    monkeypatch.syspath_prepend(str(root))
    try:
        opts = _opts(tmp_path / "run", models="dist-model")
        first = run(opts, host=_install(root, "1.0"))
        assert first.computed_units > 0 and not first.failures
        assert run(opts, host=_install(root, "1.0")).computed_units == 0
        bumped = run(opts, host=_install(root, "1.1"))
        assert bumped.reused_units == 0  # a new plugin version: nothing reused
        edited = run(opts, host=_install(root, "1.1", tail=" * 2.0"))  # same version, edited forward
        assert edited.reused_units == 0
    finally:
        sys.modules.pop("lkadv_fake_distmodel", None)


def test_identity_digests_weights_exactly() -> None:
    a, b = TinyNet(classes=4, seed=0), TinyNet(classes=4, seed=0)
    assert identify_network(a) == identify_network(b)
    with torch.no_grad():
        b.fc.bias[0] = torch.nextafter(b.fc.bias[0], torch.tensor(1.0))  # one ulp
    assert identify_network(a).weights != identify_network(b).weights
    assert identify_network(a).code == identify_network(b).code
    assert identify_network(a.to(torch.bfloat16)).weights != identify_network(b).weights


def test_a_model_that_cannot_be_built_fails_its_cells_only(tmp_path: Path) -> None:
    def boom() -> torch.nn.Module:
        raise RuntimeError("weights file is an HTML page")

    class Plugin:
        @hookimpl
        def lkadv_register_models(self, registry):
            registry.register(
                ModelSpec(
                    name="boom",
                    family="tiny",
                    factory=boom,
                    label_space="toy",
                    num_classes=4,
                    input_size=(1, 8, 8),
                    mean=(0.5,),
                    std=(0.25,),
                )
            )

    host = PluginHost(entry_points=False, extra=[("toy", toy_plugin), ("boom", Plugin())])
    result = run(_opts(tmp_path, models="boom,toy-0"), host=host)
    failed = {c.key for c in result.plan.cells if c.model.name == "boom"}
    assert set(result.failures) == failed
    assert all("RuntimeError: weights file is an HTML page" in result.failures[k] for k in failed)
    assert all(c.status == "done" for c in result.summary.cells if c.model == "toy-0")

"""The plugin inside lkadv: registration, offline listing, the study preset, doctor rows, planning."""

import json
import os
import subprocess
import sys
import textwrap
import tomllib
from pathlib import Path

import numpy as np
import pytest

from lkadv.errors import WeightsError
from lkadv.models import build_classifier
from lkadv_largekernel import ARCHITECTURES, REPARAM_RTOL, WEIGHTS
from lkadv_largekernel._plugin import LKROBUST

PLUGIN_ROOT = Path(__file__).resolve().parents[1]
REPO = PLUGIN_ROOT.parents[1]


def test_every_official_file_is_a_valid_spec(lk_host):
    models = lk_host.registries.models
    assert lk_host.plugins["largekernel"].registered["models"][: len(WEIGHTS)] == list(WEIGHTS)
    for name, entry in WEIGHTS.items():
        spec = models.get(name)
        arch = ARCHITECTURES[entry.arch]
        assert spec.family == arch.family and spec.params == arch.params
        assert spec.kernel_sizes == arch.kernel_sizes and spec.reparam_rtol == REPARAM_RTOL[arch.family]
        assert spec.input_size == (3, entry.input_size, entry.input_size)
        assert (spec.mean, spec.std, spec.crop_pct, spec.crop_mode) == (
            entry.mean,
            entry.std,
            entry.crop_pct,
            entry.crop_mode,
        )
        assert {"large-kernel", "cnn", "reparam", arch.family} <= spec.tags
        assert spec.weights_id == f"official:{entry.filename}"
    large = {s.name for s in models.select("tag:large-kernel")}
    assert set(WEIGHTS) <= large


def test_listing_is_offline_and_imports_no_model_code(hermetic):
    # A fresh interpreter, as a user runs it: the JSON listing must not import torch or timm.
    code = textwrap.dedent(
        """
        import json, sys
        from click.testing import CliRunner
        from lkadv.cli import main
        res = CliRunner().invoke(main, ["-p", "lkadv_largekernel._plugin", "list", "models", "--json",
                                        "--select", "tag:large-kernel"])
        assert res.exit_code == 0, res.output
        heavy = sorted(m for m in ("torch", "timm", "huggingface_hub") if m in sys.modules)
        print(json.dumps({"heavy": heavy, "rows": json.loads(res.output)}))
        """
    )
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(PLUGIN_ROOT / "src"), str(REPO / "src"), os.environ.get("PYTHONPATH", "")]),
        "LKADV_LOAD_PLUGINS": "lkadv_largekernel._plugin",  # this plugin only, even when it is also installed
    }
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=False)
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["heavy"] == []
    rows = {r["name"]: r for r in data["rows"]}
    assert set(WEIGHTS) <= set(rows)
    row = rows["replknet_31b.in22k_ft_in1k"]
    assert row["family"] == "replknet" and row["kernel_sizes"] == [31, 29, 27, 13]
    assert row["params"] == 79_864_168 and row["input_size"] == [3, 224, 224]
    assert row["tags"] == ["cnn", "large-kernel", "reparam", "replknet"]
    assert rows["slak_tiny.in1k"]["kernel_sizes"] == [51, 49, 47, 13]
    assert rows["unireplknet_l.in22k_ft_in1k_384"]["crop_mode"] == "squash"


def test_every_timm_name_of_the_preset_exists_in_the_installed_timm():
    import timm
    from timm.models import split_model_name_tag

    for item in LKROBUST:
        if not item.startswith("timm:"):
            assert item in WEIGHTS
            continue
        arch, _ = split_model_name_tag(item[5:])
        assert timm.is_model(arch), item
        assert item[5:] in timm.list_pretrained(arch), f"{item}: no such pretrained tag"


def test_the_study_preset_resolves_with_the_right_preprocessing(lk_host):
    specs = {s.name: s for s in lk_host.registries.models.select("preset:lkrobust")}
    assert list(specs) == list(LKROBUST)
    vit_b = specs["timm:vit_base_patch16_384.orig_in21k_ft_in1k"]
    assert vit_b.input_size == (3, 384, 384) and vit_b.mean == (0.5, 0.5, 0.5) and vit_b.crop_pct == 1.0
    bit = specs["timm:resnetv2_101x3_bit.goog_in21k_ft_in1k"]
    assert bit.input_size == (3, 448, 448)
    assert specs["timm:resnet50.tv_in1k"].interpolation == "bilinear"
    assert specs["replknet_31l.in22k_ft_in1k_384"].crop_mode == "squash"
    assert specs["replknet_31b.in1k"].crop_pct == 0.875 and specs["replknet_31b.in1k"].interpolation == "bicubic"
    assert all(s.label_space == "imagenet-1k" for s in specs.values())


def test_doctor_shows_present_and_missing_files(lk_host, hermetic):
    (hermetic / "weights" / "RepLKNet-31B_ImageNet-1K_224.pth").write_bytes(b"x")
    rows = {c.name: c for c in lk_host.collect("lkadv_doctor_checks") if c.section.startswith("large-kernel")}
    assert rows["replknet_31b.in1k"].status == "ok"
    assert rows["replknet_31b.in1k"].detail.endswith("RepLKNet-31B_ImageNet-1K_224.pth")
    missing = rows["replknet_31l.in22k_ft_in1k_384"]
    assert missing.status == "missing" and "RepLKNet-31L_ImageNet-22K-to-1K_384.pth" in missing.detail
    assert "huggingface.co/DingXiaoH/UniRepLKNet" in rows["unireplknet_b.in22k_ft_in1k_384"].detail
    assert str(hermetic / "weights") in rows["search path"].detail and "downloads off" in rows["search path"].detail
    assert rows["depthwise_conv2d_implicit_gemm"].status == "warn"
    assert set(WEIGHTS) <= set(rows)


def test_building_without_weights_is_a_clear_weights_error(lk_host):
    spec = lk_host.registries.models.get("slak_tiny.in1k")
    with pytest.raises(WeightsError, match=r"(?s)slak_tiny\.in1k\.pth.*LKADV_WEIGHTS_DIR.*drive\.google\.com"):
        build_classifier(spec)


class _ToyImageNet:
    """A four-image dataset in the ImageNet label space, to plan with."""

    @staticmethod
    def load(root, preprocessing):
        from lkadv.datasets import ArrayImageSet

        images = np.random.default_rng(0).integers(0, 256, size=(4, 3, 16, 16), dtype=np.uint8)
        return ArrayImageSet(images, np.arange(4), [f"toy/{i}" for i in range(4)], preprocessing)

    @staticmethod
    def lkadv_register_datasets(registry):
        from lkadv.specs import DatasetSpec

        registry.register(
            DatasetSpec(
                name="toy-imagenet",
                label_space="imagenet-1k",
                num_classes=1000,
                loader=_ToyImageNet.load,
                shipped=True,
                default_batch_size=2,
            )
        )


def test_models_without_weights_still_plan(tmp_path):
    from lkadv import hookimpl
    from lkadv.config import RunOptions
    from lkadv.plugins import PluginHost
    from lkadv.runner import plan_run
    from lkadv_largekernel import _plugin

    hookimpl(_ToyImageNet.lkadv_register_datasets)
    host = PluginHost(entry_points=False, extra=[("largekernel", _plugin), ("toy", _ToyImageNet)])
    options = RunOptions(models="tag:large-kernel", dataset="toy-imagenet", run_dir=tmp_path / "run", limit=0)
    plan = plan_run(options, host)
    assert {c.model.name for c in plan.cells} == set(WEIGHTS)
    assert all(c.model.weights_id.startswith("official:") for c in plan.cells)


def test_the_entry_point_is_declared_and_loads():
    meta = tomllib.loads((PLUGIN_ROOT / "pyproject.toml").read_text())
    assert meta["project"]["name"] == "lkadv-largekernel"
    assert {"lkadv", "torch", "timm"} <= {
        d.split(">")[0].split("=")[0].strip() for d in meta["project"]["dependencies"]
    }
    target = meta["project"]["entry-points"]["lkadv"]["largekernel"]
    module = __import__(target, fromlist=["x"])
    assert hasattr(module, "lkadv_register_models") and hasattr(module, "lkadv_doctor_checks")


def test_a_run_uses_present_weights_and_reports_missing_ones(tmp_path, hermetic):
    import torch

    from conftest import randomize
    from lkadv import hookimpl
    from lkadv.config import RunOptions
    from lkadv.plugins import PluginHost
    from lkadv.runner import run
    from lkadv_largekernel import _plugin, build

    torch.manual_seed(0)
    torch.save(
        {"model": randomize(build("unireplknet_a")).state_dict()},
        hermetic / "weights" / WEIGHTS["unireplknet_a.in1k"].filename,
    )
    hookimpl(_ToyImageNet.lkadv_register_datasets)
    host = PluginHost(entry_points=False, extra=[("largekernel", _plugin), ("toy", _ToyImageNet)])
    options = RunOptions(
        models="unireplknet_a.in1k,slak_tiny.in1k",
        dataset="toy-imagenet",
        attacks="fgsm",
        eps=(0.01,),
        limit=0,
        device="cpu",
        run_dir=tmp_path / "run",
    )
    result = run(options, host=host)
    failed = dict(result.failures)
    slak_cells = [c.key for c in result.plan.cells if c.model.name == "slak_tiny.in1k"]
    uni_cells = [c.key for c in result.plan.cells if c.model.name == "unireplknet_a.in1k"]
    assert set(failed) == set(slak_cells) and len(uni_cells) == 2
    assert all("slak_tiny.in1k.pth" in msg and "LKADV_WEIGHTS_DIR" in msg for msg in failed.values())
    assert result.computed_units >= len(uni_cells)

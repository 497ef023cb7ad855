"""timm registration: on import, idempotent, with pretrained tags that load official files."""

import importlib
import os
import subprocess
import sys
import textwrap
import types
import warnings
from pathlib import Path

import pytest
import torch

from conftest import randomize, rel_err
from lkadv_largekernel import ARCHITECTURES, WEIGHTS, build

PLUGIN_ROOT = Path(__file__).resolve().parents[1]
REPO = PLUGIN_ROOT.parents[1]


def test_importing_the_package_registers_with_timm_later_without_importing_it():
    code = textwrap.dedent(
        """
        import sys
        import lkadv_largekernel
        assert "timm" not in sys.modules and "torch" not in sys.modules, "package import must stay light"
        import timm, torch
        assert timm.is_model("replknet_31b") and timm.is_model("unireplknet_xl") and timm.is_model("slak_base")
        with torch.device("meta"):
            m = timm.create_model("replknet_31b", pretrained=False)
        print(sum(p.numel() for p in m.parameters()), m.pretrained_cfg["input_size"])
        """
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(PLUGIN_ROOT / "src"), str(REPO / "src")])}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=False)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split()[0] == str(ARCHITECTURES["replknet_31b"].params)


def test_registration_is_idempotent_across_reimports():
    import timm

    import lkadv_largekernel
    from lkadv_largekernel._timm import register_timm_models

    assert timm.is_model("replknet_31b")
    first = timm.models.model_entrypoint("replknet_31b")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # timm warns when a name is registered twice
        assert register_timm_models() == []
        importlib.reload(lkadv_largekernel)
    assert timm.models.model_entrypoint("replknet_31b") is first
    assert set(ARCHITECTURES) <= set(timm.list_models("*rep*lknet*") + timm.list_models("slak*"))
    assert "replknet_31b.in22k_ft_in1k" in timm.list_pretrained("replknet_31b*")


def test_create_model_on_meta_and_with_timm_kwargs():
    import timm

    m = timm.create_model("unireplknet_xl", pretrained=False, device="meta")
    assert sum(p.numel() for p in m.parameters()) == ARCHITECTURES["unireplknet_xl"].params
    small = timm.create_model("slak_tiny", num_classes=10, device="meta")
    assert small.head.out_features == 10 and small.num_classes == 10
    cfg = timm.data.resolve_data_config({}, model=timm.create_model("replknet_31l.in22k_ft_in1k_384", device="meta"))
    assert cfg["input_size"] == (3, 384, 384) and cfg["crop_mode"] == "squash" and cfg["interpolation"] == "bicubic"


def test_pretrained_tags_load_official_files(hermetic):
    import timm

    torch.manual_seed(0)
    source = randomize(build("unireplknet_a"))
    entry = WEIGHTS["unireplknet_a.in1k"]
    torch.save({"model": source.state_dict()}, hermetic / "weights" / entry.filename)
    model = timm.create_model("unireplknet_a.in1k", pretrained=True).eval()
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        assert rel_err(source(x), model(x)) == 0.0
    other = hermetic / "mine.safetensors"
    from safetensors.torch import save_file

    save_file({k: v.contiguous() for k, v in source.state_dict().items()}, str(other))
    by_file = timm.create_model("unireplknet_a", pretrained=True, pretrained_cfg_overlay={"file": str(other)}).eval()
    with torch.no_grad():
        assert rel_err(source(x), by_file(x)) == 0.0


def test_lkadv_timm_bridge_accepts_a_local_file(hermetic, lk_host):
    torch.manual_seed(0)
    source = randomize(build("unireplknet_a"))
    path = hermetic / "uni_a.pth"
    torch.save(source.state_dict(), path)
    from lkadv.models import build_classifier

    spec = lk_host.registries.models.get(f"timm:unireplknet_a.in1k[file={path}]")
    assert spec.input_size == (3, 224, 224) and spec.crop_pct == 0.875 and spec.weights_id.startswith("sha256:")
    _, report = build_classifier(spec)
    assert report.merged and report.reparam_rel_err < 1e-4


def test_a_22k_file_loads_through_timm_with_its_class_count(hermetic):
    import timm

    from lkadv.errors import WeightsError

    torch.manual_seed(0)
    source = randomize(build("unireplknet_a", num_classes=21841))
    path = hermetic / "unireplknet_a_in22k.pth"
    torch.save({"model": source.state_dict()}, path)
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        expected = source(x)
    # The default tag (in1k, 1000 classes) and an explicit one must not veto a given file.
    for name in ("unireplknet_a", "unireplknet_a.in1k"):
        model = timm.create_model(name, pretrained=True, num_classes=21841, pretrained_cfg_overlay={"file": str(path)})
        with torch.no_grad():
            assert rel_err(expected, model.eval()(x)) == 0.0, name
    # Without the class count the error says what to pass (which is the call above).
    with pytest.raises(WeightsError, match=r"classifier has 21841 classes.*num_classes=21841"):
        timm.create_model("unireplknet_a", pretrained=True, pretrained_cfg_overlay={"file": str(path)})


@pytest.mark.parametrize("timm_module", ["timm.models", "timm.models.registry", "timm.models._registry"])
def test_a_later_registration_of_our_names_warns_and_can_be_undone(timm_module, monkeypatch):
    # The official unireplknet.py, imported after this package: `@register_model def unireplknet_a(...)`.
    import timm

    from lkadv_largekernel._timm import register_timm_models

    fake = types.ModuleType("fake_official_unireplknet")
    monkeypatch.setitem(sys.modules, fake.__name__, fake)
    source = textwrap.dedent(
        f"""
        from {timm_module} import register_model
        import torch

        @register_model
        def unireplknet_a(in_1k_pretrained=False, **kwargs):
            return torch.nn.Identity()
        """
    )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)  # timm.models.registry is deprecated
            with pytest.warns(
                UserWarning,
                match=r"(?s)fake_official_unireplknet\.unireplknet_a replaced lkadv-largekernel's timm model "
                r"'unireplknet_a'.*pretrained=True.*register_timm_models\(replace=True\)",
            ):
                exec(compile(source, "fake_official_unireplknet.py", "exec"), fake.__dict__)
        assert timm.models.model_entrypoint("unireplknet_a").__module__ == fake.__name__
    finally:
        # The advice in the warning: take the name back (quietly: this replacement is asked for).
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            assert register_timm_models(replace=True) == ["unireplknet_a"]
    assert timm.models.model_entrypoint("unireplknet_a").__module__ == "lkadv_largekernel._timm"
    assert "unireplknet_a.in1k" in timm.list_pretrained("unireplknet_a*")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # our own entrypoints re-registered: nothing to warn about
        assert register_timm_models() == []

import collections

import pytest
import torch
from safetensors.torch import save_file

from lkadv.errors import WeightsError
from lkadv.models import load_into, read_state_dict
from tests.conftest import TinyNet


def test_roundtrip_formats_and_wrappers(tmp_path):
    src = TinyNet(seed=1)
    state = src.state_dict()
    save_file({k: v.contiguous() for k, v in state.items()}, str(tmp_path / "w.safetensors"))
    torch.save({"model": state, "epoch": 3}, tmp_path / "w.pth")
    torch.save({f"module.{k}": v for k, v in state.items()}, tmp_path / "dp.pt")
    for name in ("w.safetensors", "w.pth", "dp.pt"):
        dst = load_into(TinyNet(seed=2), tmp_path / name)
        for k, v in dst.state_dict().items():
            torch.testing.assert_close(v, state[k])


def test_html_truncated_and_missing_files(tmp_path):
    html = tmp_path / "w.pth"
    html.write_text("<!DOCTYPE html><html><head><title>Google Drive - Virus scan warning</title>")
    with pytest.raises(WeightsError, match="HTML page"):
        read_state_dict(html)
    full = tmp_path / "full.pth"
    torch.save(TinyNet().state_dict(), full)
    cut = tmp_path / "cut.pth"
    cut.write_bytes(full.read_bytes()[: full.stat().st_size // 2])
    with pytest.raises(WeightsError, match="truncated or corrupt"):
        read_state_dict(cut)
    with pytest.raises(WeightsError, match="does not exist"):
        read_state_dict(tmp_path / "nope.pth")
    (tmp_path / "empty.pth").write_bytes(b"")
    with pytest.raises(WeightsError, match="empty"):
        read_state_dict(tmp_path / "empty.pth")


class Evil:
    def __reduce__(self):
        return (print, ("pwned",))


def test_arbitrary_pickles_are_refused(tmp_path):
    path = tmp_path / "evil.pth"
    torch.save({"model": collections.OrderedDict(w=torch.zeros(1)), "hook": Evil()}, path)
    with pytest.raises(WeightsError, match="cannot be loaded safely"):
        read_state_dict(path)


def test_wrong_keys_are_listed(tmp_path):
    state = TinyNet().state_dict()
    state["fc.weight_renamed"] = state.pop("fc.weight")
    torch.save(state, tmp_path / "w.pth")
    with pytest.raises(WeightsError, match=r"1 missing key\(s\) \(e.g. fc.weight\).*1 unexpected key"):
        load_into(TinyNet(), tmp_path / "w.pth")
    state = TinyNet(classes=7).state_dict()
    torch.save(state, tmp_path / "s.pth")
    with pytest.raises(WeightsError, match="shape mismatch"):
        load_into(TinyNet(), tmp_path / "s.pth")


def test_training_script_args_are_allowed_but_nothing_else(tmp_path):
    import argparse

    state = TinyNet(seed=3).state_dict()
    torch.save({"model": state, "epoch": 7, "args": argparse.Namespace(model="x", lr=4e-3)}, tmp_path / "ck.pth")
    dst = load_into(TinyNet(seed=4), tmp_path / "ck.pth")
    torch.testing.assert_close(dst.state_dict()["fc.weight"], state["fc.weight"])
    torch.save({"model": state, "args": argparse.Namespace(hook=Evil())}, tmp_path / "evil.pth")
    with pytest.raises(WeightsError, match="cannot be loaded safely"):
        read_state_dict(tmp_path / "evil.pth")


def test_missing_batch_counters_are_not_missing_weights(tmp_path):
    state = {k: v for k, v in TinyNet(seed=5).state_dict().items() if not k.endswith("num_batches_tracked")}
    torch.save(state, tmp_path / "w.pth")
    dst = load_into(TinyNet(seed=6), tmp_path / "w.pth")
    torch.testing.assert_close(dst.bn.running_var, state["bn.running_var"])
    del state["bn.running_var"]
    torch.save(state, tmp_path / "w2.pth")
    with pytest.raises(WeightsError, match=r"1 missing key\(s\) \(e.g. bn.running_var\)"):
        load_into(TinyNet(), tmp_path / "w2.pth")


def test_bad_files_through_the_timm_bridge_fail_their_model_with_a_clear_message(tmp_path):
    from lkadv.models import identify_models
    from lkadv.plugins import PluginHost

    html = tmp_path / "page.safetensors"
    html.write_text("<!DOCTYPE html><html><body>quota exceeded</body></html>")
    truncated = tmp_path / "cut.safetensors"
    truncated.write_bytes((10**6).to_bytes(8, "little") + b'{"a": 1')
    huge = tmp_path / "huge.safetensors"
    huge.write_bytes((2**60).to_bytes(8, "little") + b"{}")
    page_pth = tmp_path / "page.pth"
    page_pth.write_text("<html><head><title>Google Drive</title></head></html>")
    host = PluginHost(entry_points=False)
    specs = [host.registries.models.get(f"timm:test_resnet[file={p}]") for p in (html, truncated, huge, page_pth)]
    found = identify_models([*specs, host.registries.models.get("fm-resnet")])
    errors = [found[s.name].error or "" for s in specs]
    assert "is an HTML page" in errors[0] and "WeightsError" in errors[0]
    assert "is not a safetensors file" in errors[1] and "is not a safetensors file" in errors[2]
    assert "is an HTML page" in errors[3]
    assert found["fm-resnet"].error is None  # the healthy model is built

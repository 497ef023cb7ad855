import pytest
import torch
from safetensors.torch import save_file

from lkadv.errors import SelectionError, WeightsError
from lkadv.models import build_classifier
from lkadv.models._timm_plugin import create


def test_spec_comes_from_pretrained_cfg(host):
    spec = host.registries.models.get("timm:test_vit.r160_in1k[pretrained=false]")
    import timm

    cfg = timm.models.get_pretrained_cfg("test_vit.r160_in1k")
    assert spec.input_size == tuple(cfg.input_size)
    assert spec.mean == tuple(cfg.mean) and spec.std == tuple(cfg.std)
    assert spec.interpolation == cfg.interpolation and spec.crop_pct == cfg.crop_pct
    assert spec.label_space == "imagenet-1k" and spec.num_classes == 1000
    assert spec.weights_id == "random-init:seed0"
    clf, _ = build_classifier(spec)
    out = clf(torch.rand(1, *spec.input_size))
    assert out.shape == (1, 1000)
    clf2, _ = build_classifier(spec)
    torch.testing.assert_close(clf2(torch.zeros(1, *spec.input_size)), clf(torch.zeros(1, *spec.input_size)))


def test_local_file_goes_through_timms_pretrained_path(host, tmp_path):
    import timm

    torch.manual_seed(1)
    ref = timm.create_model("test_resnet.r160_in1k", pretrained=False)
    path = tmp_path / "w.safetensors"
    save_file({k: v.contiguous() for k, v in ref.state_dict().items()}, str(path))
    spec = host.registries.models.get(f"timm:test_resnet.r160_in1k[file={path}]")
    assert spec.weights_id.startswith("sha256:")
    clf, _ = build_classifier(spec)
    x = torch.rand(2, *spec.input_size)
    ref.eval()
    mean = torch.tensor(spec.mean).view(1, 3, 1, 1)
    std = torch.tensor(spec.std).view(1, 3, 1, 1)
    torch.testing.assert_close(clf(x), ref((x - mean) / std), rtol=1e-4, atol=1e-4)


def test_unknown_names_and_options(host):
    with pytest.raises(SelectionError, match="timm has no model 'resnet5o'.*closest"):
        host.registries.models.get("timm:resnet5o")
    with pytest.raises(SelectionError, match="no tag 'nope'"):
        host.registries.models.get("timm:resnet50.nope")
    with pytest.raises(SelectionError, match="unknown timm option"):
        host.registries.models.get("timm:resnet50[foo=1]")
    with pytest.raises(SelectionError, match="does not exist"):
        host.registries.models.get("timm:resnet50[file=/no/such/file.pth]")


def test_offline_pretrained_download_is_a_clear_error(monkeypatch):
    import timm

    def fail(*args, **kwargs):
        raise OSError("Network is unreachable")

    monkeypatch.setattr(timm, "create_model", fail)
    with pytest.raises(WeightsError, match=r"Offline\? Pass a local file"):
        create("resnet18.a1_in1k", pretrained=True, file=None)

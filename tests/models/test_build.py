import pytest
import torch
from torch import nn

from lkadv.errors import ModelContractError
from lkadv.models import build_classifier, fuse_conv_bn, pad_kernel_to, reparameterize
from lkadv.specs import ModelSpec
from lkadv.zoo._archs import RepLKNetFM, SLaKNetFM


def _randomize_bn(model: nn.Module, seed: int = 0) -> nn.Module:
    g = torch.Generator().manual_seed(seed)
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.copy_(torch.randn(m.num_features, generator=g) * 0.2)
            m.running_var.copy_(torch.rand(m.num_features, generator=g) + 0.5)
            m.weight.data.copy_(torch.randn(m.num_features, generator=g) * 0.3 + 1)
            m.bias.data.copy_(torch.randn(m.num_features, generator=g) * 0.1)
    return model.eval()


def test_fuse_conv_bn_matches_the_pair():
    conv = nn.Conv2d(3, 4, 3, padding=1, bias=True)
    bn = _randomize_bn(nn.Sequential(nn.BatchNorm2d(4)))[0]
    x = torch.randn(2, 3, 6, 6)
    w, b = fuse_conv_bn(conv, bn)
    torch.testing.assert_close(nn.functional.conv2d(x, w, b, padding=1), bn(conv(x)), rtol=1e-5, atol=1e-5)
    assert pad_kernel_to(torch.ones(1, 1, 3, 3), (7, 7))[0, 0].sum() == 9
    with pytest.raises(ValueError, match="cannot centre"):
        pad_kernel_to(torch.ones(1, 1, 4, 4), (7, 7))


@pytest.mark.parametrize("arch", [RepLKNetFM, SLaKNetFM])
def test_zoo_merges_are_exact(arch):
    torch.manual_seed(0)
    model = _randomize_bn(arch())
    x = torch.rand(4, 1, 28, 28)
    with torch.no_grad():
        before = model(x)
        assert reparameterize(model)
        after = model(x)
    assert not any("lkb_origin" in k or "LoRA" in k or "small_conv" in k for k in model.state_dict())
    assert float((after - before).abs().max() / before.abs().max()) < 1e-5


def _spec(factory, **kw):
    return ModelSpec(
        name="m",
        family="f",
        factory=factory,
        label_space="fashion-mnist",
        num_classes=10,
        input_size=(1, 28, 28),
        mean=(0.3,),
        std=(0.35,),
        **kw,
    )


def test_build_merges_and_records_error():
    clf, report = build_classifier(_spec(lambda: _randomize_bn(RepLKNetFM())))
    assert report.merged and report.reparam_rel_err is not None and report.reparam_rel_err < 1e-4
    assert clf.network.stages[0][0].large_kernel.lkb_reparam is not None


class _WrongMerge(nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(28 * 28, 10)

    def forward(self, x):
        return self.lin(x.flatten(1))

    def reparameterize(self):
        with torch.no_grad():
            self.lin.bias.add_(1.0)


def test_a_wrong_merge_stops_the_build():
    with pytest.raises(ModelContractError, match="re-parameterized logits differ"):
        build_classifier(_spec(_WrongMerge))
    _, report = build_classifier(_spec(_WrongMerge), merge=False)
    assert not report.merged


def test_factory_must_return_a_module():
    with pytest.raises(ModelContractError, match="not nn.Module"):
        build_classifier(_spec(lambda: "nope"))

import pytest
import torch
from torch import nn

from lkadv.errors import ModelContractError
from lkadv.models import Classifier, adapt_output
from tests.conftest import TinyNet


def test_normalizes_inside_and_returns_fp32(tiny_classifier):
    x = torch.rand(5, 1, 8, 8)
    expected = tiny_classifier.network((x - 0.5) / 0.25)
    got = tiny_classifier(x)
    assert got.dtype == torch.float32
    torch.testing.assert_close(got, expected)


def test_eval_mode_is_forced(tiny_classifier):
    tiny_classifier.train()
    assert not tiny_classifier.network.training and not tiny_classifier.network.bn.training
    before = tiny_classifier.network.bn.running_mean.clone()
    tiny_classifier(torch.rand(16, 1, 8, 8))
    torch.testing.assert_close(tiny_classifier.network.bn.running_mean, before)
    assert all(not p.requires_grad for p in tiny_classifier.parameters())


def test_batch_size_invariance(tiny_classifier):
    x = torch.rand(9, 1, 8, 8)
    full = tiny_classifier(x)
    parts = torch.cat([tiny_classifier(x[i : i + 2]) for i in range(0, 9, 2)])
    torch.testing.assert_close(full, parts, rtol=1e-5, atol=1e-6)


class _Tuple(nn.Module):
    def __init__(self, kind):
        super().__init__()
        self.kind = kind
        self.lin = nn.Linear(4, 3)

    def forward(self, x):
        logits = self.lin(x.flatten(1))
        if self.kind == "tuple":
            return logits, torch.zeros(1)
        if self.kind == "dict":
            return {"logits": logits, "aux": torch.zeros(1)}
        if self.kind == "bad":
            return {"a": logits, "b": logits}
        return logits.double()


@pytest.mark.parametrize("kind", ["tuple", "dict", "double"])
def test_outputs_are_adapted(kind):
    clf = Classifier(_Tuple(kind), mean=(0.0,), std=(1.0,), num_classes=3)
    out = clf(torch.rand(2, 1, 2, 2))
    assert out.shape == (2, 3) and out.dtype == torch.float32


def test_unadaptable_output_and_wrong_shape_fail():
    with pytest.raises(ModelContractError, match="no 'logits' entry"):
        Classifier(_Tuple("bad"), mean=(0.0,), std=(1.0,), num_classes=3)(torch.rand(2, 1, 2, 2))
    with pytest.raises(ModelContractError, match=r"expected logits of shape \[N, 5\]"):
        Classifier(_Tuple("tuple"), mean=(0.0,), std=(1.0,), num_classes=5)(torch.rand(2, 1, 2, 2))
    with pytest.raises(ModelContractError, match="holds no logits"):
        adapt_output("text")


def test_autocast_precision_keeps_fp32_logits(tiny_classifier):
    x = torch.rand(4, 1, 8, 8)
    bf16 = tiny_classifier.with_precision("bf16")
    out = bf16(x)
    assert out.dtype == torch.float32
    assert bf16.network is tiny_classifier.network
    torch.testing.assert_close(out, tiny_classifier(x), rtol=0.1, atol=0.1)
    with pytest.raises(ValueError, match="precision"):
        tiny_classifier.with_precision("fp8")


def test_inputs_on_another_device_are_moved(tiny_classifier):
    assert tiny_classifier(torch.rand(2, 1, 8, 8, dtype=torch.float64).float()).device.type == "cpu"


def test_three_channel_normalization():
    net = TinyNet(channels=3)
    clf = Classifier(net, mean=(0.1, 0.2, 0.3), std=(0.5, 0.25, 0.125), num_classes=4)
    x = torch.rand(2, 3, 8, 8)
    mean = torch.tensor([0.1, 0.2, 0.3]).view(1, 3, 1, 1)
    std = torch.tensor([0.5, 0.25, 0.125]).view(1, 3, 1, 1)
    torch.testing.assert_close(clf(x), net((x - mean) / std))


def _confident_linear():
    # Class 0 wins by ~25 logits: the softmax of class 1 is ~1e-11, fine in fp32, 0 in fp16.
    g = torch.Generator().manual_seed(0)
    lin = torch.nn.Linear(16, 2)
    with torch.no_grad():
        lin.weight.copy_(torch.randn(2, 16, generator=g) * 0.5)
        lin.bias.copy_(torch.tensor([25.0, 0.0]))
    return torch.nn.Sequential(torch.nn.Flatten(), lin), torch.rand(8, 1, 4, 4, generator=g)


def test_fp16_loss_scaling_keeps_underflowing_gradients():
    from lkadv.models import Classifier

    net, x = _confident_linear()
    fp32 = Classifier(net, mean=(0.0,), std=(1.0,), num_classes=2)
    y = fp32(x).argmax(1)  # confident and right: the CE gradient is ~1e-11, below fp16's smallest number

    def grad(model):
        xr = x.clone().requires_grad_(True)
        loss = torch.nn.functional.cross_entropy(model(xr), y, reduction="sum")
        return torch.autograd.grad(loss, xr)[0]

    ref = grad(fp32)
    assert bool((ref.flatten(1).abs().amax(1) > 0).all())

    def plain_fp16(inp):  # autocast without lkadv's scaling
        with torch.autocast("cpu", dtype=torch.float16):
            return net(inp).float()

    assert float(grad(plain_fp16).abs().max()) == 0.0  # fp16 underflow: no direction at all
    fp16 = fp32.with_precision("fp16")
    scaled = grad(fp16)
    agree = (scaled.sign() == ref.sign()).float().mean()
    assert float(agree) > 0.95
    torch.testing.assert_close(scaled, ref, rtol=0.05, atol=1e-3 * float(ref.abs().max()))
    assert fp16.grad_stats.zero_rows == 0 and fp16.grad_stats.scaled_rows == 8


def test_grad_stats_count_zero_and_overflowing_rows():
    from lkadv.models import Classifier

    class Masked(torch.nn.Module):
        def forward(self, x):
            flat = x.flatten(1)
            flat = torch.cat([flat[:2] * 0, flat[2:]])  # the first two samples have no gradient
            return torch.stack([flat.sum(1), -flat.sum(1)], 1)

    clf = Classifier(Masked(), mean=(0.0,), std=(1.0,), num_classes=2)
    xr = torch.rand(5, 1, 2, 2).requires_grad_(True)
    torch.autograd.grad(clf(xr)[:, 0].sum(), xr)
    assert clf.grad_stats.as_dict() == {"rows": 5, "zero_rows": 2, "nonfinite_rows": 0, "scaled_rows": 0}
    with torch.no_grad():
        clf(xr)  # no gradient asked: nothing counted, no graph built
    assert clf.grad_stats.rows == 5


def test_channels_last_gives_the_same_logits():
    x = torch.rand(6, 3, 8, 8)
    plain = Classifier(TinyNet(channels=3, seed=4), mean=(0.5,) * 3, std=(0.25,) * 3, num_classes=4)
    fast = Classifier(TinyNet(channels=3, seed=4), mean=(0.5,) * 3, std=(0.25,) * 3, num_classes=4, channels_last=True)
    assert fast.network.conv.weight.is_contiguous(memory_format=torch.channels_last)
    torch.testing.assert_close(fast(x), plain(x), rtol=1e-5, atol=1e-5)
    assert fast.with_precision("bf16").channels_last


def test_classifier_pickles_and_deep_copies_with_its_gradient_counts(tiny_classifier):
    import copy
    import pickle

    tiny_classifier.grad_stats.add(rows=3, zero_rows=1)
    for clone in (copy.deepcopy(tiny_classifier), pickle.loads(pickle.dumps(tiny_classifier))):
        assert clone.grad_stats.as_dict() == tiny_classifier.grad_stats.as_dict()
        clone.grad_stats.add(rows=1)  # a working lock of its own
        assert clone.grad_stats.rows == 4 and tiny_classifier.grad_stats.rows == 3

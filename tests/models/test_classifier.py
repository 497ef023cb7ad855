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


def test_channels_last_gives_the_same_logits():
    x = torch.rand(6, 3, 8, 8)
    plain = Classifier(TinyNet(channels=3, seed=4), mean=(0.5,) * 3, std=(0.25,) * 3, num_classes=4)
    fast = Classifier(TinyNet(channels=3, seed=4), mean=(0.5,) * 3, std=(0.25,) * 3, num_classes=4, channels_last=True)
    assert fast.network.conv.weight.is_contiguous(memory_format=torch.channels_last)
    torch.testing.assert_close(fast(x), plain(x), rtol=1e-5, atol=1e-5)
    assert fast.with_precision("bf16").channels_last

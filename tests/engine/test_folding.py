"""BatchNorm folding: the copy computes the model's function, removes what it can, and leaves the model alone."""

from __future__ import annotations

import copy

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from lkadv.engine import fold_batchnorm
from lkadv.engine._folding import _ChannelAffine


def _randomize(net: nn.Module, seed: int = 0) -> nn.Module:
    """Non-trivial running statistics and affine parameters, eval mode."""
    g = torch.Generator().manual_seed(seed)
    for m in net.modules():
        if isinstance(m, nn.modules.batchnorm._BatchNorm):
            c = m.num_features
            m.running_mean.copy_(torch.randn(c, generator=g))
            m.running_var.copy_(torch.rand(c, generator=g) * 2 + 0.1)
            m.weight.data.copy_(torch.randn(c, generator=g))
            m.bias.data.copy_(torch.randn(c, generator=g))
    return net.eval()


class _Untraceable(nn.Module):
    """Data-dependent control flow defeats symbolic tracing; its children still fold."""

    def __init__(self) -> None:
        super().__init__()
        self.branch = nn.Sequential(nn.Conv2d(4, 4, 3, padding=1, bias=False), nn.BatchNorm2d(4))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.sum() > 0:
            return self.branch(x) + 1
        return self.branch(x) - 1


class _BNSubclass(nn.BatchNorm2d):
    """A BatchNorm that does more than normalize: must be kept."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(super().forward(x))


class _Zoo(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(8)  # conv -> bn: folded into conv1
        self.pre = nn.BatchNorm2d(8)
        self.pw = nn.Conv2d(8, 8, 1, groups=2)  # bn -> grouped pointwise conv: folded into pw
        self.pre_padded = nn.BatchNorm2d(8)
        self.conv3 = nn.Conv2d(8, 4, 3, padding=1)  # padded: cannot take the BN; it becomes an affine map
        self.shared = nn.Conv2d(4, 4, 1)
        self.bn_shared = nn.BatchNorm2d(4)  # the shared conv's first output also feeds the sum below
        self.sub = _BNSubclass(4)
        self.untraceable = _Untraceable()
        self.trained = nn.BatchNorm2d(4)
        self.fc = nn.Linear(4, 6)
        self.bn_fc = nn.BatchNorm1d(6)  # after a Linear: an affine map (no Linear folding)
        self.conv1d = nn.Conv1d(1, 3, 3)
        self.bn1d = nn.BatchNorm1d(3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.relu(self.bn1(self.conv1(x)))
        x = self.pw(self.pre(x))
        x = self.conv3(self.pre_padded(torch.relu(x)))
        s = self.shared(x)
        x = self.bn_shared(s) + s
        x = self.untraceable(self.sub(x))
        x = self.trained(x)
        z = self.bn_fc(self.fc(x.mean((2, 3))))
        w = self.bn1d(self.conv1d(z[:, None, :]))
        return z + w.mean(1)[:, 1:-1].sum(1, keepdim=True)


def _zoo() -> nn.Module:
    torch.manual_seed(0)
    net = _randomize(_Zoo())
    net.trained.train()  # batch statistics: never folded
    return net


def _input_grad(net: nn.Module, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    x = x.clone().requires_grad_(True)
    out = net(x)
    (grad,) = torch.autograd.grad((out * torch.linspace(-1, 1, out.shape[1])).sum(), x)
    return out.detach(), grad


def test_folded_copy_computes_the_same_function_and_gradient():
    net = _zoo()
    folded, removed = fold_batchnorm(net)
    # bn1, pre, pre_padded, bn_shared, bn_fc, bn1d, and the untraceable module's BN:
    assert removed == 7
    code = folded.code  # the rest of the graph traced around the opaque module
    assert "self.untraceable" not in code and "self.sub(" in code and "self.trained(" in code
    kinds = [type(m) for m in folded.modules()]
    assert kinds.count(_ChannelAffine) == 3  # pre_padded, bn_shared (its conv's output is used twice), bn_fc
    assert kinds.count(nn.BatchNorm2d) == 1  # the training-mode one
    assert kinds.count(_BNSubclass) == 1
    assert nn.BatchNorm1d not in kinds
    x = torch.rand(5, 3, 6, 6, generator=torch.Generator().manual_seed(1))
    out, grad = _input_grad(net, x)
    f_out, f_grad = _input_grad(folded, x)
    torch.testing.assert_close(f_out, out, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(f_grad, grad, rtol=1e-4, atol=1e-5)


def test_the_original_model_is_untouched():
    net = _zoo()
    before = copy.deepcopy(net.state_dict())
    modules = dict(net.named_modules())
    folded, _ = fold_batchnorm(net)
    assert folded is not net
    assert dict(net.named_modules()) == modules
    for k, v in net.state_dict().items():
        torch.testing.assert_close(v, before[k], rtol=0, atol=0)
    # Tensors the pass did not rewrite are shared, not copied.
    assert folded.get_submodule("conv3").weight is net.conv3.weight


def test_nothing_to_fold_returns_the_model_itself():
    net = nn.Sequential(nn.Conv2d(1, 2, 3), nn.LayerNorm([2, 2, 2]))
    assert fold_batchnorm(net) == (net, 0)
    bn_train = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2)).train()
    assert fold_batchnorm(bn_train) == (bn_train, 0)


def test_networks_with_forward_hooks_are_left_alone():
    net = _randomize(nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4)))
    seen: list[int] = []
    net[1].register_forward_hook(lambda m, i, o: seen.append(len(o)))
    assert fold_batchnorm(net) == (net, 0)


def test_a_bare_batchnorm_becomes_an_affine_map():
    bn = _randomize(nn.BatchNorm2d(3))
    folded, removed = fold_batchnorm(bn)
    x = torch.randn(2, 3, 4, 4)
    assert removed == 1
    torch.testing.assert_close(folded(x), bn(x))


def test_channels_last_kernels_stay_channels_last():
    net = _randomize(nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4))).to(memory_format=torch.channels_last)
    folded, _ = fold_batchnorm(net)
    weights = [m.weight for m in folded.modules() if isinstance(m, nn.Conv2d)]
    assert len(weights) == 1 and weights[0].is_contiguous(memory_format=torch.channels_last)


@settings(max_examples=40, deadline=None)
@given(
    cin=st.integers(1, 4),
    groups=st.sampled_from([1, 2]),
    kernel=st.sampled_from([1, 3]),
    padding=st.integers(0, 1),
    bias=st.booleans(),
    before=st.booleans(),
    seed=st.integers(0, 10_000),
)
def test_any_conv_bn_pair_folds_exactly(cin, groups, kernel, padding, bias, before, seed):
    cin, cout = cin * groups, 2 * groups
    conv = nn.Conv2d(cin, cout, kernel, padding=padding, groups=groups, bias=bias)
    net = nn.Sequential(nn.BatchNorm2d(cin), conv) if before else nn.Sequential(conv, nn.BatchNorm2d(cout))
    torch.manual_seed(seed)
    nn.init.normal_(conv.weight)
    net = _randomize(net, seed)
    folded, removed = fold_batchnorm(net)
    assert removed == 1
    x = torch.randn(3, cin, 5, 5, generator=torch.Generator().manual_seed(seed))
    torch.testing.assert_close(folded(x), net(x), rtol=1e-4, atol=1e-4)


def test_mini_zoo_models_lose_every_batchnorm_and_keep_their_predictions(fashion_batch, zoo_classifiers):
    x, _ = fashion_batch
    for name, clf in zoo_classifiers.items():
        network, removed = fold_batchnorm(clf.network)
        count = sum(isinstance(m, nn.BatchNorm2d) for m in clf.network.modules())
        assert removed == count, name
        assert not any(isinstance(m, nn.BatchNorm2d) for m in network.modules()), name
        with torch.no_grad():
            ref, got = clf(x), clf.with_network(network)(x)
        torch.testing.assert_close(got, ref, rtol=1e-4, atol=1e-4, msg=name)
        assert torch.equal(got.argmax(1), ref.argmax(1)), name


@pytest.fixture
def fashion_batch():
    from lkadv.datasets._fashion_mnist import load_fashion_mnist

    images, labels = load_fashion_mnist("test")
    return torch.from_numpy(images[:64]).float().div(255)[:, None], torch.from_numpy(labels[:64]).long()


@pytest.fixture
def zoo_classifiers(host):
    from lkadv.models import build_classifier

    return {s.name: build_classifier(s)[0] for s in host.registries.models.select("preset:mini-zoo")}

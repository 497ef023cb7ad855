"""The optional implicit-GEMM depthwise path: used only when present, same keys and results."""

import sys
import types

import pytest
import torch
import torch.nn.functional as F

from lkadv_largekernel import _dwconv
from lkadv_largekernel._dwconv import DepthwiseConv2d, fast_depthwise_impl


@pytest.fixture
def fake_igemm(monkeypatch):
    calls = []

    class DepthWiseConv2dImplicitGEMM(torch.nn.Conv2d):
        def forward(self, x):
            calls.append(x.shape)
            out = F.conv2d(x, self.weight, None, 1, self.weight.shape[-1] // 2, 1, self.weight.shape[0])
            return out + self.bias.view(1, -1, 1, 1) if self.bias is not None else out

    module = types.ModuleType(_dwconv.IGEMM_MODULE)
    module.DepthWiseConv2dImplicitGEMM = DepthWiseConv2dImplicitGEMM
    monkeypatch.setitem(sys.modules, _dwconv.IGEMM_MODULE, module)
    monkeypatch.setattr(_dwconv, "_FAST_DEVICES", frozenset({"cpu"}))  # pretend the CPU is a CUDA device
    fast_depthwise_impl.cache_clear()
    yield calls
    fast_depthwise_impl.cache_clear()


def test_absent_extension_means_plain_conv2d():
    fast_depthwise_impl.cache_clear()
    assert fast_depthwise_impl() is None  # not installed here
    conv = DepthwiseConv2d(4, (13, 13), bias=True)
    assert set(conv.state_dict()) == {"weight", "bias"} and conv.padding == (6, 6)


def test_extension_is_used_for_square_large_kernels_only(fake_igemm):
    x = torch.randn(2, 4, 20, 20)
    big = DepthwiseConv2d(4, (13, 13), bias=True)
    reference = F.conv2d(x, big.weight, big.bias, padding=6, groups=4)
    torch.testing.assert_close(big(x), reference)
    assert fake_igemm == [x.shape]
    for shape, dilation in (((13, 5), 1), ((5, 5), 1), ((7, 7), 2)):
        DepthwiseConv2d(4, shape, dilation=dilation)(x)
    assert len(fake_igemm) == 1
    big.double()(x.double())  # a dtype the extension lacks: torch's path
    assert len(fake_igemm) == 1


def test_extension_can_be_switched_off(fake_igemm, monkeypatch):
    monkeypatch.setenv("LKADV_LK_IMPL", "torch")
    fast_depthwise_impl.cache_clear()
    DepthwiseConv2d(4, (13, 13))(torch.randn(1, 4, 16, 16))
    assert fake_igemm == []


def test_wide_kernels_on_cpu_run_channels_last_with_the_same_result():
    torch.manual_seed(0)
    x = torch.randn(2, 6, 30, 30, requires_grad=True)
    for shape in ((31, 31), (5, 31), (31, 5), (13, 13)):
        conv = DepthwiseConv2d(6, shape, bias=True)
        assert conv._cpu_channels_last == (shape[1] >= 21)
        out = conv(x)
        ref = F.conv2d(x, conv.weight, conv.bias, padding=(shape[0] // 2, shape[1] // 2), groups=6)
        assert out.is_contiguous()
        torch.testing.assert_close(out, ref, rtol=1e-5, atol=1e-5)
        cl_out = conv(x.contiguous(memory_format=torch.channels_last))
        assert cl_out.is_contiguous(memory_format=torch.channels_last)
        torch.testing.assert_close(cl_out, ref, rtol=1e-5, atol=1e-5)
        (g,) = torch.autograd.grad(out.square().sum(), x)  # attacks need input gradients
        (g_ref,) = torch.autograd.grad(ref.square().sum(), x)
        torch.testing.assert_close(g, g_ref, rtol=1e-4, atol=1e-4)

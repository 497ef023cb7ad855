"""Structural re-parameterization: merged and unmerged logits agree, and a wrong merge is caught."""

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from conftest import randomize, rel_err
from lkadv.errors import ModelContractError
from lkadv.models import build_classifier
from lkadv.specs import ModelSpec
from lkadv_largekernel import REPARAM_RTOL, RepLKNet, SLaK, UniRepLKNet, build
from lkadv_largekernel._replknet import ReparamLargeKernelConv
from lkadv_largekernel._slak import DecomposedLargeKernelConv
from lkadv_largekernel._unireplknet import DILATED_BRANCHES, DilatedReparamBlock, dilate_kernel

RTOL = 1e-4  # the acceptance bound; every family's spec tolerance is at most this

# Reduced widths and depths of the same block code (the real variants differ only in size).
SMALL = {
    "replknet": lambda: RepLKNet((13, 11, 9, 7), (1, 1, 2, 1), (8, 16, 24, 32), small_kernel=5, num_classes=10),
    "replknet-xl-style": lambda: RepLKNet(
        (9, 9, 9, 7), (1, 1, 1, 1), (8, 16, 24, 32), small_kernel=None, dw_ratio=1.5, num_classes=10
    ),
    "slak": lambda: SLaK((1, 1, 2, 1), (8, 16, 24, 32), kernel_sizes=(13, 11, 9, 7), width_factor=1.3, num_classes=10),
    "unireplknet": lambda: UniRepLKNet(
        (2, 1, 3, 1), (8, 16, 24, 32), kernel_sizes=((3, 5), (13,), (13, 3, 11), (7,)), num_classes=10
    ),
}


def _merged_vs_unmerged(model: nn.Module, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    with torch.no_grad():
        before = model(x)
        model.reparameterize()
        after = model(x)
    return before, after


@pytest.mark.parametrize("family", list(SMALL))
def test_small_variants_merge_exactly(family):
    torch.manual_seed(0)
    model = randomize(SMALL[family]())
    x = torch.randn(3, 3, 64, 64)
    before, after = _merged_vs_unmerged(model, x)
    assert rel_err(before, after) < RTOL
    keys = list(model.state_dict())
    assert not any(tag in k for k in keys for tag in ("lkb_origin", "small_conv", "LoRA", "dil_", "origin_bn")), keys
    with torch.no_grad():  # idempotent
        model.reparameterize()
        torch.testing.assert_close(model(x), after)


def test_a_real_variant_merges_exactly_at_a_tiny_input():
    torch.manual_seed(0)
    model = randomize(build("replknet_31b"))
    before, after = _merged_vs_unmerged(model, torch.randn(2, 3, 48, 48))
    assert rel_err(before, after) < RTOL
    lk = model.stages[0].blocks[0].large_kernel
    assert lk.lkb_reparam.weight.shape == (128, 1, 31, 31) and lk.lkb_origin is None


def test_every_dilated_reparam_layout_merges():
    torch.manual_seed(0)
    x = torch.randn(2, 4, 23, 23)
    for kernel in DILATED_BRANCHES:
        block = randomize(nn.Sequential(DilatedReparamBlock(4, kernel)))[0]
        with torch.no_grad():
            before = block(x)
            block.reparameterize()
            assert rel_err(before, block(x)) < 1e-5, kernel
            assert block.lk_origin.weight.shape == (4, 1, kernel, kernel)


def test_dilate_kernel_matches_a_dilated_convolution():
    # Independent reference: torch's own dilated convolution.
    torch.manual_seed(0)
    w = torch.randn(3, 1, 3, 3)
    x = torch.randn(1, 3, 17, 17)
    for rate in (1, 2, 3, 5):
        direct = F.conv2d(x, w, padding=rate, dilation=rate, groups=3)
        dense = dilate_kernel(w, rate)
        assert dense.shape[-1] == 2 * rate + 1
        torch.testing.assert_close(F.conv2d(x, dense, padding=rate, groups=3), direct, rtol=1e-5, atol=1e-5)


def test_decomposed_kernels_merge_into_one_square_kernel():
    torch.manual_seed(0)
    layer = randomize(nn.Sequential(DecomposedLargeKernelConv(6, 15, 5)))[0]
    x = torch.randn(2, 6, 20, 20)
    with torch.no_grad():
        before = layer(x)
        layer.reparameterize()
        assert layer.lkb_reparam.weight.shape == (6, 1, 15, 15)
        assert rel_err(before, layer(x)) < 1e-5


def test_a_wrong_merge_is_far_outside_the_tolerance(monkeypatch):
    # Mis-centre the small kernel inside the large one: the check must notice.
    from lkadv_largekernel import _replknet

    def off_centre(weight, size):
        kh = weight.shape[-1]
        pad = size[0] - kh
        return F.pad(weight, (0, pad, 0, pad))

    monkeypatch.setattr(_replknet, "pad_kernel_to", off_centre)
    torch.manual_seed(0)
    layer = randomize(nn.Sequential(ReparamLargeKernelConv(6, 13, 5)))[0]
    x = torch.randn(2, 6, 20, 20)
    with torch.no_grad():
        before = layer(x)
        layer.reparameterize()
        assert rel_err(before, layer(x)) > 1e-2


def _spec(name, family, network, rtol):
    return ModelSpec(
        name=name,
        family=family,
        factory=lambda: network,
        label_space="toy",
        num_classes=10,
        input_size=(3, 64, 64),
        mean=(0.5, 0.5, 0.5),
        std=(0.25, 0.25, 0.25),
        reparam_rtol=rtol,
    )


@pytest.mark.parametrize("family", ["replknet", "slak", "unireplknet"])
def test_the_core_check_passes_with_the_family_tolerance(family):
    assert REPARAM_RTOL[family] <= RTOL
    torch.manual_seed(1)
    network = randomize(SMALL[family]())
    _, report = build_classifier(_spec("m", family, network, REPARAM_RTOL[family]))
    assert report.merged and report.reparam_rel_err is not None and report.reparam_rel_err < REPARAM_RTOL[family]


def test_the_core_check_rejects_a_broken_merge(monkeypatch):
    from lkadv_largekernel import _slak

    monkeypatch.setattr(_slak.DecomposedLargeKernelConv, "merged_kernel", _drop_small_branch)
    torch.manual_seed(1)
    network = randomize(SMALL["slak"]())
    with pytest.raises(ModelContractError, match="merge is wrong"):
        build_classifier(_spec("m", "slak", network, REPARAM_RTOL["slak"]))


def _drop_small_branch(self):
    from lkadv.models import pad_kernel_to

    size = (self.kernel, self.kernel)
    w1, b1 = self.LoRA1.fused()
    w2, b2 = self.LoRA2.fused()
    return pad_kernel_to(w1, size) + pad_kernel_to(w2, size), b1 + b2

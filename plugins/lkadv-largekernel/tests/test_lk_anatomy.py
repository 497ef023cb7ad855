"""The three families declare their anatomy: modules exist before and after merging, the study's lesion pairs."""

import pytest
import torch

from lkadv.analyses import anatomy_of, kernel_scores
from lkadv_largekernel import RepLKNet, SLaK, UniRepLKNet
from lkadv_largekernel._anatomy import anatomy

SMALL = {
    "replknet": lambda: RepLKNet((13, 11, 9, 7), (1, 1, 2, 1), (8, 16, 24, 32), small_kernel=5, num_classes=10),
    "slak": lambda: SLaK((1, 1, 2, 1), (8, 16, 24, 32), kernel_sizes=(13, 11, 9, 7), width_factor=1.3, num_classes=10),
    "unireplknet": lambda: UniRepLKNet(
        (2, 1, 3, 1), (8, 16, 24, 32), kernel_sizes=((3, 5), (13,), (13, 3, 11), (7,)), num_classes=10
    ),
}


@pytest.mark.parametrize("family", list(SMALL))
def test_declared_modules_exist_before_and_after_merging(family: str) -> None:
    net = SMALL[family]().eval()
    before = anatomy_of(net, anatomy)
    modules = dict(net.named_modules())
    assert before.large_kernels and before.blocks and before.features
    for site in before.large_kernels:
        assert all(b in modules for b in site.branches)
    net.reparameterize()
    after = anatomy_of(net, anatomy)
    merged = dict(net.named_modules())
    for site in after.large_kernels or ():
        conv = merged[site.merged]
        assert isinstance(conv, torch.nn.Conv2d) and conv.groups == conv.in_channels


def test_replknet_kernels_per_stage_and_lesion_pairs() -> None:
    net = SMALL["replknet"]()
    a = anatomy_of(net, anatomy)
    assert [s.stage for s in a.large_kernels or ()] == [0, 1, 2, 2, 3]
    assert (a.blocks or ())[2].modules == ("stages.2.blocks.0", "stages.2.blocks.1")
    site = (a.large_kernels or ())[0]
    weight = net.get_submodule(site.branches[0]).weight
    assert weight.shape[-1] == 13
    assert kernel_scores(weight).shape == (8,)


def test_unireplknet_skips_its_3x3_kernels() -> None:
    net = SMALL["unireplknet"]()
    sites = anatomy_of(net, anatomy).large_kernels or ()
    sizes = [net.get_submodule(s.branches[0]).weight.shape[-1] for s in sites]
    assert sizes == [5, 13, 13, 11, 7]  # 7 blocks, two of them 3x3

"""Anatomy: declared by the mini zoo, discovered for timm models, refused when wrong, never guessed."""

from __future__ import annotations

import pytest
import timm
from torch import nn

from lkadv.analyses import anatomy_of
from lkadv.errors import ModelContractError
from lkadv.plugins import PluginHost
from lkadv.zoo import ZOO


@pytest.fixture(scope="module")
def host() -> PluginHost:
    return PluginHost(entry_points=False)


@pytest.mark.parametrize("name", [e.name for e in ZOO])
def test_zoo_declares_modules_that_exist(host: PluginHost, name: str) -> None:
    from lkadv.types import resolve

    spec = host.registries.models.get(name)
    network = (
        resolve(spec.factory)(**spec.factory_kwargs)
        if isinstance(spec.factory, str)
        else spec.factory(**spec.factory_kwargs)
    )
    anatomy = anatomy_of(network, spec.anatomy)
    assert anatomy.source == "declared"
    modules = dict(network.named_modules())
    for site in anatomy.large_kernels or ():
        assert all(b in modules for b in site.branches)
    assert anatomy.blocks and anatomy.features
    if "large-kernel" in spec.tags:
        assert [site.stage for site in anatomy.large_kernels or ()] == [0, 1]


def test_merged_kernels_exist_after_merging(host: PluginHost) -> None:
    from lkadv.models import build_classifier

    spec = host.registries.models.get("fm-slak")
    clf, report = build_classifier(spec, channels_last=False)
    assert report.merged
    anatomy = anatomy_of(clf.network, spec.anatomy)
    modules = dict(clf.network.named_modules())
    for site in anatomy.large_kernels or ():
        assert isinstance(modules[site.merged], nn.Conv2d)
        assert modules[site.merged].kernel_size == (13, 13)
        assert not any(b in modules for b in site.branches)  # the SLaK pair is gone after merging


def test_timm_vit_blocks_and_convnext_kernels_are_discovered() -> None:
    vit = anatomy_of(timm.create_model("test_vit", pretrained=False))
    assert vit.source == "discovered"
    assert vit.blocks and all(b.modules[0].startswith("blocks.") for b in vit.blocks)
    assert vit.large_kernels == ()
    convnext = anatomy_of(timm.create_model("test_convnext", pretrained=False))
    assert convnext.large_kernels and all(s.branches == (s.merged,) for s in convnext.large_kernels)
    assert {b.stage for b in convnext.blocks or ()} == {0, 1, 2, 3}


def test_undeclared_parts_are_unknown_and_needing_them_says_so() -> None:
    anatomy = anatomy_of(nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU()))
    assert anatomy.blocks is None and anatomy.features is None
    with pytest.raises(ModelContractError, match="declares no blocks"):
        anatomy.need("blocks", "toy")


def test_a_declaration_naming_missing_modules_is_refused() -> None:
    net = nn.Sequential(nn.Conv2d(1, 2, 3))
    with pytest.raises(ModelContractError, match=r"unknown modules in blocks: \['body.9'\]"):
        anatomy_of(net, lambda _n: {"blocks": [{"modules": ["body.9"], "stage": 0}]})

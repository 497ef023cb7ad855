import pytest

from lkadv.errors import SelectionError, SpecError
from lkadv.registries import Registry
from lkadv.specs import ModelSpec


def _m(name, tags=(), label="x"):
    return ModelSpec(
        name=name,
        family=name.split("-")[0],
        factory="m:f",
        label_space=label,
        num_classes=2,
        input_size=(1, 4, 4),
        mean=(0.5,),
        std=(0.5,),
        tags=frozenset(tags),
    )


@pytest.fixture
def reg():
    r = Registry("model")
    for name, tags in [
        ("convnext-t", {"cnn"}),
        ("convnext-b", {"cnn"}),
        ("replknet-31b", {"cnn", "large-kernel"}),
        ("slak-t", {"cnn", "large-kernel"}),
        ("vit-b", {"vit"}),
    ]:
        r.register(_m(name, tags), provider="p")
    r.register_preset("study", "replknet-31b,vit-b", provider="p")
    return r


def names(specs):
    return [s.name for s in specs]


def test_selectors(reg):
    assert names(reg.select("all")) == reg.names()
    assert names(reg.select("vit-b,convnext-t")) == ["vit-b", "convnext-t"]
    assert names(reg.select("convnext*")) == ["convnext-t", "convnext-b"]
    assert names(reg.select("tag:large-kernel")) == ["replknet-31b", "slak-t"]
    assert names(reg.select("preset:study")) == ["replknet-31b", "vit-b"]
    assert names(reg.select("all,-tag:cnn")) == ["vit-b"]
    assert names(reg.select("tag:cnn,convnext-t")) == ["convnext-t", "convnext-b", "replknet-31b", "slak-t"]


def test_where_filters_broad_terms_only(reg):
    only_t = lambda s: s.name.endswith("-t")  # noqa: E731
    assert names(reg.select("all", where=only_t)) == ["convnext-t", "slak-t"]
    assert names(reg.select("vit-b", where=only_t)) == ["vit-b"]


def test_unknown_name_lists_closest(reg):
    with pytest.raises(SelectionError, match=r"unknown model 'convnext-s'; closest: convnext-t, convnext-b"):
        reg.select("convnext-s")
    with pytest.raises(SelectionError, match="no model has tag 'tiny'.*known tags: cnn, large-kernel, vit"):
        reg.select("tag:tiny")
    with pytest.raises(SelectionError, match="unknown model preset 'nope'.*study"):
        reg.select("preset:nope")
    with pytest.raises(SelectionError, match="matches nothing"):
        reg.select("resnet*")
    with pytest.raises(SelectionError, match="selects nothing"):
        reg.select("vit-b,-vit-b")


def test_resolver_builds_on_demand(reg):
    reg.register_resolver("fake", lambda rest: _m(f"fake:{rest}"), provider="q")
    spec = reg.get("fake:abc")
    assert spec.name == "fake:abc" and reg.provider("fake:abc") == "q"
    assert names(reg.select("fake:abc,vit-b")) == ["fake:abc", "vit-b"]


def test_duplicates_and_withdraw(reg):
    with pytest.raises(SpecError, match="already registered by plugin 'p'"):
        reg.register(_m("vit-b"), provider="other")
    reg.withdraw("p")
    assert len(reg) == 0 and reg.presets() == {}

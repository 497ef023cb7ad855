import pickle
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lkadv.config import load_options
from lkadv.errors import ConfigError, DataError, LkadvError, SelectionError
from lkadv.planner import Threat, balanced_subset, derive_seed, format_eps, make_plan
from lkadv.runner import plan_run, prepare_data


def test_format_eps():
    assert format_eps(2 / 255) == "2/255"
    assert format_eps(0.5) == "0.5"
    assert format_eps(0.0) == "0"


def test_threat_identity_carries_full_config():
    t = Threat("attack", "pgd", (("norm", "l2"), ("steps", 10), ("backend", "lkadv")), eps=0.5)
    assert t.id == "pgd[norm=l2,steps=10,backend=lkadv]@eps=0.5"
    assert t.label == "pgd-l2@0.5"
    assert t.family == "pgd[norm=l2,steps=10,backend=lkadv]"
    assert Threat.clean().id == "clean"


@settings(max_examples=40, deadline=None)
@given(n_classes=st.integers(2, 12), per=st.integers(1, 30), limit=st.integers(1, 200), seed=st.integers(0, 9))
def test_balanced_subset(n_classes, per, limit, seed):
    labels = [i % n_classes for i in range(n_classes * per)]
    ids = [f"s{i}" for i in range(len(labels))]
    sub = balanced_subset(ids, labels, limit, seed)
    assert len(sub) == min(limit, len(ids))
    assert list(sub.positions) == sorted(set(sub.positions))
    counts = Counter(labels[p] for p in sub.positions)
    if len(sub) < len(ids):
        assert max(counts.values()) - min(counts.get(c, 0) for c in range(n_classes)) <= 1
    assert balanced_subset(ids, labels, limit, seed) == sub
    assert sub.ids == tuple(ids[p] for p in sub.positions)


def test_seeds_are_stable():
    assert derive_seed(0, "a", 1) == derive_seed(0, "a", 1) != derive_seed(1, "a", 1)
    assert derive_seed(0, "a", 1) == 5134108193574538106


def _opts(**kw):
    return load_options(kw, env={}, config_file=None)


def test_plan_cells_order_and_keys(host):
    plan = plan_run(_opts(models="fm-resnet,fm-vit", attacks="pgd", eps="2/255,1/255", limit=40), host)
    labels = [t.label for t in plan.threats]
    assert labels == ["clean", "pgd@1/255", "pgd@2/255"]
    assert len(plan.cells) == 6 and len(plan.subset) == 40
    again = plan_run(_opts(models="fm-resnet,fm-vit", attacks="pgd", eps="1/255,2/255", limit=40), host)
    assert [c.key for c in plan.cells] == [c.key for c in again.cells]
    other = plan_run(
        _opts(
            models="fm-resnet,fm-vit",
            attacks="pgd",
            eps="1/255,2/255",
            limit=40,
            attack_params={"pgd": {"steps": "20"}},
        ),
        host,
    )
    changed = {c.key for c in other.cells} ^ {c.key for c in plan.cells}
    assert len(changed) == 8  # the 4 attack cells differ, clean cells are shared
    assert "steps=20" in other.cells[1].threat.id


def test_plan_errors(host):
    with pytest.raises(SelectionError, match="closest: fm-resnet"):
        plan_run(_opts(models="fm-resnett"), host)
    with pytest.raises(ConfigError, match="outputs imagenet-1k"):
        plan_run(_opts(models="timm:test_vit[pretrained=false]"), host)
    with pytest.raises(ConfigError, match="does not select"):
        plan_run(_opts(attacks="fgsm", attack_params={"pgd": {"steps": 3}}), host)
    with pytest.raises(SelectionError, match="unknown dataset"):
        plan_run(_opts(dataset="imagenett"), host)


def test_default_models_follow_the_dataset(host):
    plan = plan_run(_opts(limit=20), host)
    assert {m.label_space for m in plan.models} == {"fashion-mnist"}
    assert len(plan.models) == 7


def test_a_plan_needs_no_data_and_the_data_step_names_the_missing_root(host, monkeypatch, tmp_path):
    for var in ("LKADV_DATA_IMAGENET", "LKADV_DATA_ROOT"):
        monkeypatch.delenv(var, raising=False)
    options = _opts(dataset="imagenet", models="timm:test_vit[pretrained=false]", attacks="pgd")
    plan = make_plan(options, host)  # reads no file: the root is neither looked for nor needed
    assert plan.data is None and len(plan.cells) == 1 + len(plan.threats) - 1
    assert all(c.material["dataset"]["subset"] is None for c in plan.cells)
    pickle.loads(pickle.dumps(plan))  # cheap to send to another process
    with pytest.raises(LkadvError, match="no data yet"):
        list(plan.units())
    with pytest.raises(DataError, match="LKADV_DATA_IMAGENET"):
        prepare_data(plan, host)
    nowhere = {"imagenet": str(tmp_path / "nowhere")}
    gone = _opts(dataset="imagenet", models="timm:test_vit[pretrained=false]", data_roots=nowhere)
    make_plan(gone, host)
    with pytest.raises(DataError, match=r"\[data\] imagenet in the config file") as info:
        prepare_data(make_plan(gone, host), host)
    assert info.value.exit_code == 2


def test_the_data_step_keys_cells_on_the_subset(host):
    plan = make_plan(_opts(models="fm-resnet", limit=20), host)
    with_data = prepare_data(plan, host)
    assert [c.key for c in with_data.cells] != [c.key for c in plan.cells]
    assert with_data.cells[0].material["dataset"]["subset"] == with_data.subset.digest
    assert with_data.cells[0].material["dataset"]["n"] == 20
    assert prepare_data(plan, host).cells == with_data.cells  # the same draw every time

"""``-a preset:lkrobust``: the study's attack protocol by name, overridable flag by flag."""

from __future__ import annotations

from collections import Counter

import pytest

from lkadv.config import RunOptions
from lkadv.runner import plan_run


def _plan(host, **kw):
    return plan_run(RunOptions(models="fm-resnet", attacks="preset:lkrobust", **kw), host)


def _grid(plan, name):
    return sorted(t.eps for t in plan.threats if t.name == name)


def test_lkrobust_preset_is_the_study_protocol(host) -> None:
    plan = _plan(host)
    assert _grid(plan, "fgsm") == pytest.approx([0.1, 0.2, 0.3, 0.4])
    assert _grid(plan, "pgd") == pytest.approx([0.002, 0.004, 0.006, 0.008])
    assert _grid(plan, "taig") == pytest.approx([8 / 255, 16 / 255])
    pgd = dict(next(t for t in plan.threats if t.name == "pgd").config)
    assert (pgd["steps"], pgd["rel_step"], pgd["random_start"], pgd["loss"]) == (5, 0.25, True, "ce")
    taig = dict(next(t for t in plan.threats if t.name == "taig").config)
    assert (taig["variant"], taig["iterations"], taig["path_steps"]) == ("r-approx", 20, 20)
    labels = plan.imageset.labels[list(plan.subset.positions)].tolist()
    assert Counter(labels) == {c: 5 for c in range(10)}  # 5 images per class


def test_flags_win_over_the_preset(host) -> None:
    plan = _plan(host, eps="1/255", limit=20, attack_params={"pgd": {"steps": 7}})
    assert {t.eps for t in plan.threats if t.kind == "attack"} == {1 / 255}
    assert dict(next(t for t in plan.threats if t.name == "pgd").config)["steps"] == 7
    assert len(plan.subset) == 20


def test_preset_with_sources_makes_transfer_cells(host) -> None:
    plan = _plan(host, source_models="fm-vit")
    kinds = Counter(t.kind for t in plan.threats)
    assert kinds == {"clean": 1, "transfer": 10}
    assert [m.name for m in plan.models] == ["fm-resnet", "fm-vit"]

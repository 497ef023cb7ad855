"""Transfer cells: crafted once per source, stored as 8-bit images, scored on every target, resumable."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import pytest
import torch

from lkadv.config import RunOptions
from lkadv.metrics import transfer_entries
from lkadv.models import Classifier
from lkadv.planner import make_plan
from lkadv.runner import rescore, run
from lkadv.store import ExampleStore, Ledger

TAIG = {"taig": {"iterations": 4, "path_steps": 3}}
EPS = 4 / 255


def _opts(tmp_path, models: str, **kw) -> RunOptions:
    base = {
        "models": models,
        "attacks": "taig",
        "source_models": "fm-resnet",
        "eps": (EPS,),
        "limit": 16,
        "batch_size": 8,
        "run_dir": tmp_path,
        "attack_params": TAIG,
    }
    return RunOptions(**{**base, **kw})


@contextmanager
def _gradient_passes() -> Iterator[list[int]]:
    """Count forward passes through any lkadv Classifier with autograd on (what crafting does)."""
    count = [0]

    def hook(module, args, output) -> None:
        if isinstance(module, Classifier) and torch.is_grad_enabled():
            count[0] += 1

    handle = torch.nn.modules.module.register_module_forward_hook(hook)
    try:
        yield count
    finally:
        handle.remove()


def test_crafting_is_paid_once_per_source_whatever_the_targets(tmp_path, host) -> None:
    with _gradient_passes() as one:
        run(_opts(tmp_path / "a", "fm-resnet"), host=host, progress=False)
    with _gradient_passes() as three:
        result = run(_opts(tmp_path / "b", "fm-resnet,fm-vit,fm-convnext"), host=host, progress=False)
    # 2 batches x 4 iterations x (3 + 1) path points, whatever the number of targets
    assert one[0] == three[0] == 2 * 4 * 4
    units = [u for c in result.plan.cells if c.threat.kind == "transfer" for u in Ledger(tmp_path / "b").units(c.key)]
    assert sum(u["info"]["crafted"] for u in units) == 2  # one unit per shard crafted, the others read
    assert len({u["info"]["examples"] for u in units}) == 2


def test_saved_examples_are_8_bit_inside_the_ball_and_what_was_scored(tmp_path, host) -> None:
    result = run(_opts(tmp_path, "fm-resnet,fm-vit"), host=host, progress=False)
    plan = result.plan
    store = ExampleStore(tmp_path)
    images = plan.imageset.load(list(plan.subset.positions)).numpy()
    labels = plan.imageset.labels[list(plan.subset.positions)].numpy()
    for key in store.list_keys():
        ex = store.get(key)
        assert ex is not None and ex.images.dtype == np.uint8
        clean = images[ex.indices]
        assert np.abs(ex.floats() - clean).max() <= EPS + 1e-6
        np.testing.assert_array_equal(ex.labels, labels[ex.indices])
        assert ex.meta["source"] == "fm-resnet"
    # the figures are the target's predictions on the stored images, recomputed here independently
    from lkadv.models import build_classifier

    vit, _ = build_classifier(host.registries.models.get("fm-vit"))
    sets = [store.get(k) for k in store.list_keys()]
    adv = torch.from_numpy(np.concatenate([s.floats() for s in sets if s is not None]))
    order = np.concatenate([s.indices for s in sets if s is not None])
    with torch.no_grad():
        pred_adv = vit(adv).argmax(1).numpy()
        pred_clean = vit(torch.from_numpy(images[order])).argmax(1).numpy()
    ok_clean = pred_clean == labels[order]
    expected = int((ok_clean & (pred_adv != labels[order])).sum())
    with Ledger(tmp_path) as ledger:
        entry = next(e for e in transfer_entries(result.summary, ledger) if e.target == "fm-vit")
    assert (entry.attacked, entry.fooled) == (int(ok_clean.sum()), expected)


def test_rescore_scores_saved_examples_without_crafting(tmp_path, host) -> None:
    run(_opts(tmp_path, "fm-resnet"), host=host, progress=False)
    with _gradient_passes() as passes:
        result = rescore(tmp_path, "fm-slak", host=host)
    assert passes[0] == 0
    assert result.computed_units == 4  # fm-slak: clean + transfer, 2 shards each
    with Ledger(tmp_path) as ledger:
        targets = {e.target for e in transfer_entries(result.summary, ledger)}
    assert targets == {"fm-resnet", "fm-slak"}


def test_rescore_without_saved_examples_fails_the_cell_not_silently(tmp_path, host) -> None:
    run(_opts(tmp_path, "fm-resnet"), host=host, progress=False)
    for blob in (tmp_path / "examples" / "index").iterdir():
        blob.unlink()
    result = rescore(tmp_path, "fm-vit", host=host)
    assert any("are not saved" in e for e in result.failures.values())


def test_source_identity_is_in_the_target_cell_key(tmp_path, host) -> None:
    plan = make_plan(_opts(tmp_path, "fm-vit"), host)
    ids = {"fm-vit": {"weights": "v"}, "fm-resnet": {"weights": "r1"}}
    a = plan.identified(ids)
    b = plan.identified({**ids, "fm-resnet": {"weights": "r2"}})
    keys = lambda p, m: {c.key for c in p.cells if c.model.name == m and c.threat.kind == "transfer"}  # noqa: E731
    assert keys(a, "fm-vit") != keys(b, "fm-vit")  # only the source changed
    assert {c.key for c in a.cells if c.threat.kind == "clean" and c.model.name == "fm-vit"} == {
        c.key for c in b.cells if c.threat.kind == "clean" and c.model.name == "fm-vit"
    }
    assert [m.name for m in plan.models] == ["fm-vit", "fm-resnet"]  # the source joins as a target


def test_a_killed_run_keeps_its_crafting(tmp_path, host, monkeypatch) -> None:
    # The first target's unit crafts and stores, then the run dies before any other unit.
    import lkadv.executors._transfer as transfer

    real = transfer.transfer_unit
    calls = [0]

    def dying(*args, **kwargs):
        out = real(*args, **kwargs)
        calls[0] += 1
        if calls[0] == 1:
            raise KeyboardInterrupt
        return out

    monkeypatch.setattr("lkadv.executors._local.transfer_unit", dying)
    with pytest.raises(KeyboardInterrupt):
        run(_opts(tmp_path, "fm-resnet"), host=host, progress=False)
    monkeypatch.setattr("lkadv.executors._local.transfer_unit", real)
    assert len(ExampleStore(tmp_path).list_keys()) == 1
    with _gradient_passes() as passes:
        run(_opts(tmp_path, "fm-resnet"), host=host, progress=False)
    assert passes[0] == 4 * 4  # only the second shard is crafted again

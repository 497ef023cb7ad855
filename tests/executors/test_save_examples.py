"""``--save-examples N``: an attack cell's first N examples saved as 8-bit images, outcomes unchanged."""

from __future__ import annotations

import numpy as np
import torch

from lkadv.config import RunOptions
from lkadv.executors import score
from lkadv.models import build_classifier
from lkadv.runner import run
from lkadv.store import ExampleStore, Ledger

EPS = 8 / 255


def _opts(tmp_path, **kw) -> RunOptions:
    base = {"models": "fm-resnet", "attacks": "pgd", "eps": (EPS,), "limit": 12, "shard_size": 4, "run_dir": tmp_path}
    base["attack_params"] = {"pgd": {"steps": 3}}
    return RunOptions(**{**base, **kw})


def test_first_examples_are_saved_in_the_ball_with_the_unit(tmp_path, host) -> None:
    result = run(_opts(tmp_path, save_examples=5), host=host, progress=False)
    cell = next(c for c in result.plan.cells if c.threat.kind == "attack")
    store = ExampleStore(tmp_path)
    # each unit's examples, and the clean images they start from (for the report's gallery)
    assert store.list_keys() == sorted(f"cell-{cell.key}-{s}{c}" for s in (0, 1) for c in ("", "-clean"))
    plan = result.plan
    images = plan.imageset.load(list(plan.subset.positions)).numpy()
    with Ledger(tmp_path) as ledger:
        out = ledger.outcomes(cell.key)
        units = ledger.units(cell.key)
    got = [store.get(f"cell-{cell.key}-{s}") for s in (0, 1)]
    assert [len(g.ids) for g in got if g is not None] == [4, 1]
    for ex in got:
        assert ex is not None
        assert np.abs(ex.floats() - images[ex.indices]).max() <= EPS + 1e-6
        # reloaded from the run directory, the 8-bit examples re-score exactly as recorded with them
        model, _ = build_classifier(cell.model)
        x = torch.from_numpy(ex.floats())
        _, pred, _ = score(model, x, torch.from_numpy(ex.labels), 64)
        np.testing.assert_array_equal(pred, ex.source_pred)
        ran = out.attacked[ex.indices]
        # a sample not attacked is kept as its clean image
        assert (ex.images[~ran] == np.rint(images[ex.indices][~ran] * 255)).all()
    assert "examples" in units[0]["info"] and "examples" not in units[2]["info"]


def test_saving_changes_no_outcome_and_no_key(tmp_path, host) -> None:
    a = run(_opts(tmp_path / "a"), host=host, progress=False)
    b = run(_opts(tmp_path / "b", save_examples=3), host=host, progress=False)
    assert [c.key for c in a.plan.cells] == [c.key for c in b.plan.cells]
    assert [c.accuracy.k for c in a.summary.cells if c.accuracy] == [
        c.accuracy.k for c in b.summary.cells if c.accuracy
    ]
    assert ExampleStore(tmp_path / "a").list_keys() == []

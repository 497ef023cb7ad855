import numpy as np
import pytest

from lkadv.errors import StoreError
from lkadv.store import Ledger
from lkadv.types import Outcomes


def _cell(key, n_units=2):
    return {
        "key": key,
        "model": "m",
        "family": "f",
        "dataset": "d",
        "threat_kind": "clean",
        "threat_name": "clean",
        "threat_id": "clean",
        "threat_label": "clean",
        "threat": {},
        "spec": {"a": 1},
        "subset": "s",
        "n_samples": 4,
        "n_units": n_units,
        "seed": 1,
    }


def _out(correct):
    c = np.array(correct, bool)
    return Outcomes(c, np.arange(len(c)), np.full(len(c), np.nan, np.float32), np.zeros(len(c), bool))


def test_units_commit_and_cell_status(tmp_path):
    with Ledger(tmp_path / "run", create=True, lock=True) as ledger:
        run = ledger.start_run({"p": 1}, {"v": 2})
        ledger.add_cells(run, [_cell("k1")])
        ledger.commit_unit("k1", 0, 0, _out([1, 0]), seconds=1.0, run_id=run)
        assert ledger.cells(run)[0].status == "partial"
        ledger.commit_unit("k1", 1, 2, _out([1, 1]), seconds=2.0, run_id=run)
        row = ledger.cells(run)[0]
        assert row.status == "done" and row.units_done == 2 and row.seconds == 3.0
        assert ledger.done_units() == {("k1", 0), ("k1", 1)}
        got = ledger.outcomes("k1")
        assert got.correct.tolist() == [True, False, True, True]
        assert np.isnan(got.margin).all()
        assert ledger.outcomes("k1", 2, 4).correct.tolist() == [True, True]
        ledger.finish_run(run, "done")
        assert ledger.run()["status"] == "done"


def test_a_failed_commit_leaves_nothing(tmp_path):
    with Ledger(tmp_path, create=True) as ledger:
        run = ledger.start_run({}, {})
        ledger.add_cells(run, [_cell("k1")])
        bad = _out([1, 0])
        bad.pred = np.array([0])  # length mismatch: fails mid-transaction
        with pytest.raises(ValueError):
            ledger.commit_unit("k1", 0, 0, bad, seconds=1.0, run_id=run)
        assert ledger.done_units() == set()
        assert len(ledger.outcomes("k1")) == 0


def test_lock_and_errors(tmp_path):
    with pytest.raises(StoreError, match="not a run directory"):
        Ledger(tmp_path / "missing")
    with Ledger(tmp_path, create=True, lock=True), pytest.raises(StoreError, match="in use by pid"):
        Ledger(tmp_path, lock=True)
    Ledger(tmp_path, lock=True).close()  # released
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / "ledger.sqlite").write_bytes(b"this is not sqlite at all" * 100)
    with pytest.raises(StoreError, match="not a readable lkadv ledger"):
        Ledger(tmp_path / "x")
    with Ledger(tmp_path, create=True) as ledger:
        ledger.start_run({}, {})
        with pytest.raises(StoreError, match="no run 7"):
            ledger.run(7)


def test_stage_progress_is_kept_until_the_unit_commits(tmp_path):
    with Ledger(tmp_path, create=True) as ledger:
        run = ledger.start_run({}, {})
        ledger.add_cells(run, [_cell("k1")])
        assert ledger.progress("k1", 0) is None
        ledger.save_progress("k1", 0, 1, {"correct": [True, False]})
        ledger.save_progress("k1", 0, 2, {"correct": [False, False]})  # replaces the earlier stage
        assert ledger.progress("k1", 0) == (2, {"correct": [False, False]})
        bad = _out([1, 0])
        bad.pred = np.array([0])
        with pytest.raises(ValueError):  # a failed commit keeps the progress row
            ledger.commit_unit("k1", 0, 0, bad, seconds=1.0, run_id=run)
        assert ledger.progress("k1", 0) is not None
        ledger.commit_unit("k1", 0, 0, _out([0, 0]), seconds=1.0, run_id=run, info={"stages": [1, 2]})
        assert ledger.progress("k1", 0) is None
        assert ledger.unit_infos("k1") == [{"stages": [1, 2]}]

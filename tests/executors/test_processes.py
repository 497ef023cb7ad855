"""The processes executor: same per-sample outcomes as the local one, and nothing lost when workers die.

Every fault is placed by the work itself (a model that kills its process at
its Nth forward pass, or at every one), never by a timer, so a loaded machine
cannot make these tests pass or fail.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from lkadv.config import load_options
from lkadv.plugins import PluginHost
from lkadv.runner import run
from lkadv.store import Ledger
from tests.executors.scale_helpers import local_reference, per_sample, same_arrays, toy_run, unit_infos

TWO_CPUS = {"devices": "cpu,cpu"}
pytestmark = pytest.mark.slow  # every test here spawns worker processes


@pytest.fixture(autouse=True)
def _fault_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LKADV_FAULT_DIR", str(tmp_path))


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], tuple[object, ...]]:
    return local_reference(tmp_path_factory.mktemp("local"))


def test_two_cpu_workers_give_the_local_outcomes_of_a_reduced_main_job(tmp_path: Path) -> None:
    # The main job (tests/test_main_job_digest.py) on 20 of its 500 samples in 2 shards: the full job
    # takes minutes on this 2-core machine. Every model of the mini zoo, clean and PGD at every eps.
    job = {"models": "all", "attacks": "pgd", "limit": "20", "shard_size": "10"}
    outcomes = []
    for executor in ("local", "processes"):
        options = load_options(
            {**job, "executor": executor, "run_dir": str(tmp_path / executor), **TWO_CPUS}, env={}, config_file=None
        )
        result = run(options, host=PluginHost(entry_points=False), progress=False)
        assert not result.failures, result.failures
        assert result.computed_units == len(result.plan.cells) * 2
        outcomes.append(per_sample(result))
    assert outcomes[0], "the job ran no cell"
    assert same_arrays(*outcomes) == []


def test_a_worker_killed_mid_unit_costs_that_unit_only(tmp_path: Path, reference, monkeypatch) -> None:
    # fault-kill dies at its 30th forward pass: past its first shard's clean unit, inside an attack unit.
    monkeypatch.setenv("LKADV_FAULT_AT", "30")
    result = toy_run(tmp_path / "run", "fault-kill,toy-1", "processes", **TWO_CPUS)
    assert (tmp_path / "kill.marker").exists(), "the fault never fired: the test proves nothing"
    assert not result.failures
    assert result.computed_units == 2 * 4 * 4  # models x cells x shards, each committed once
    infos = unit_infos(result)
    retried = {unit: info["attempts"] for unit, info in infos.items() if "attempts" in info}
    assert len(retried) == 1 and next(iter(retried.values())) == 2, retried
    ((model, label, _),) = retried
    assert model == "fault-kill" and label != "clean"
    with Ledger(result.run_dir) as ledger:  # one row per unit: nothing was committed twice
        assert ledger.db.execute("SELECT COUNT(*) FROM units").fetchone()[0] == 32
    assert same_arrays(per_sample(result), reference) == []


def test_a_unit_that_always_kills_its_worker_is_tried_n_times_and_the_run_goes_on(
    tmp_path: Path, reference, monkeypatch
) -> None:
    result = toy_run(tmp_path / "run", "fault-crash,toy-1", "processes", max_attempts=2, **TWO_CPUS)
    crashed = [c for c in result.plan.cells if c.model.name == "fault-crash"]
    assert {c.key for c in crashed} == set(result.failures)
    clean = next(c for c in crashed if c.threat.kind == "clean")
    assert "tried 2 times" in result.failures[clean.key] and "SIGKILL" in result.failures[clean.key]
    assert all("builds on clean" in result.failures[c.key] for c in crashed if c is not clean)
    mine = per_sample(result)
    assert same_arrays(mine, {k: v for k, v in reference.items() if k[0] == "toy-1"}) == []
    with Ledger(result.run_dir) as ledger:
        assert ledger.run(result.run_id)["status"] == "failed"


def test_out_of_memory_halves_the_batch_and_the_ledger_records_it(tmp_path: Path) -> None:
    # fault-oom takes at most 32 samples a batch; the run asks for 64. The local executor has no
    # back-off: there, at 64, every cell fails with the error; at 32 it gives the reference outcomes.
    too_big = toy_run(tmp_path / "local64", "fault-oom", batch_size="64")
    assert len(too_big.failures) == 4 and all("OutOfMemoryError" in e for e in too_big.failures.values())
    expected = per_sample(toy_run(tmp_path / "local32", "fault-oom", batch_size="32"))
    result = toy_run(tmp_path / "run", "fault-oom", "processes", batch_size="64", devices="cpu")
    assert not result.failures, result.failures
    infos = unit_infos(result)
    assert len(infos) == 4 * 4
    for info in infos.values():
        assert info["settings"]["batch_size"] == 32
        assert info["oom_backoff"] == {"planned_batch_size": 64, "batch_size": 32}
    assert same_arrays(per_sample(result), expected) == []


def test_a_resumed_run_computes_nothing_twice(tmp_path: Path) -> None:
    first = toy_run(tmp_path / "run", "toy-0", "processes", **TWO_CPUS)
    again = toy_run(tmp_path / "run", "toy-0", "processes", **TWO_CPUS)
    assert (first.computed_units, again.computed_units, again.reused_units) == (16, 0, 16)


def test_staged_attacks_and_corruptions_give_the_local_outcomes(tmp_path: Path) -> None:
    # AutoAttack and worst-of run in stages (saved through the driver); corruptions are seeded per shard.
    job = {
        "attacks": "autoattack,worst-of",
        "attack_params": {
            "autoattack": {"version": "custom", "attacks": "apgd-ce+apgd-dlr", "iterations": 4},
            "worst-of": {"members": "fgsm+pgd:steps=5"},
        },
        "eps": "0.03,0.1",
        "corruptions": "gaussian_noise,defocus_blur",
        "severities": "1,5",
        "limit": "96",
        "shard_size": "48",
    }
    local = toy_run(tmp_path / "local", "toy-0,toy-1", **job)
    spread = toy_run(tmp_path / "processes", "toy-0,toy-1", "processes", devices="cpu,cpu", **job)
    assert not local.failures and not spread.failures, (local.failures, spread.failures)
    assert len(spread.plan.cells) == 2 * (1 + 4 + 4) and spread.computed_units == 2 * len(spread.plan.cells)
    assert same_arrays(per_sample(local), per_sample(spread)) == []
    stages = [info.get("stages") for info in unit_infos(spread).values()]
    assert sum(bool(s) for s in stages) == 2 * 2 * 4  # every attack unit reports its stages


def test_a_worker_that_builds_other_weights_than_the_driver_keyed_fails_those_cells(tmp_path: Path) -> None:
    # The cells are keyed on the weights the driver loaded; a result from other weights would be a wrong number.
    result = toy_run(tmp_path / "run", "fault-unseeded,toy-1", "processes", devices="cpu", attacks="none")
    unseeded = {c.key for c in result.plan.cells if c.model.name == "fault-unseeded"}
    assert set(result.failures) == unseeded
    assert all("other weights or code than the driver identified" in e for e in result.failures.values())
    assert result.computed_units == 4  # toy-1's clean cell, every shard

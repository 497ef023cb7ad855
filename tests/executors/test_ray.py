"""The Ray executor in a local Ray instance with two fake GPUs: the local outcomes, and nothing lost with an actor.

Skipped only where Ray is not installed (CI installs ``lkadv[ray]``). The actor
kill is placed by the work itself (a model that kills its process at its Nth
forward pass), never by a timer.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.executors.scale_helpers import local_reference, per_sample, same_arrays, toy_run, unit_infos

ray = pytest.importorskip("ray")
pytestmark = pytest.mark.slow  # a local Ray instance and its worker processes
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def local_ray() -> Iterator[None]:
    """``ray.init(num_cpus=2, num_gpus=2)``: two actors, each given one (fake) GPU."""
    with pytest.MonkeyPatch.context() as patch:
        # Actors import lkadv and the test plugins as this process does.
        path = [str(ROOT / "src"), str(ROOT), os.environ.get("PYTHONPATH", "")]
        patch.setenv("PYTHONPATH", os.pathsep.join(p for p in path if p))
        ray.init(num_cpus=2, num_gpus=2, include_dashboard=False, log_to_driver=False)
    try:
        yield
    finally:
        ray.shutdown()


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], tuple[object, ...]]:
    return local_reference(tmp_path_factory.mktemp("local"))


def test_ray_actors_give_the_local_outcomes(tmp_path: Path, local_ray, reference) -> None:
    result = toy_run(tmp_path / "run", "toy-1", "ray")
    assert not result.failures, result.failures
    assert result.computed_units == 16
    assert same_arrays(per_sample(result), {k: v for k, v in reference.items() if k[0] == "toy-1"}) == []
    devices = {info["settings"]["device"] for info in unit_infos(result).values()}
    assert all(d.startswith("cpu@") for d in devices), devices  # fake GPUs: the actors ran on the CPU


def test_a_ray_actor_killed_mid_unit_costs_that_unit_only(tmp_path: Path, local_ray, reference, monkeypatch) -> None:
    monkeypatch.setenv("LKADV_FAULT_DIR", str(tmp_path))
    monkeypatch.setenv("LKADV_FAULT_AT", "30")
    result = toy_run(tmp_path / "run", "fault-kill,toy-1", "ray")
    assert (tmp_path / "kill.marker").exists(), "the fault never fired: the test proves nothing"
    assert not result.failures, result.failures
    assert result.computed_units == 32
    retried = {unit: info["attempts"] for unit, info in unit_infos(result).items() if "attempts" in info}
    assert list(retried.values()) == [2] and next(iter(retried))[0] == "fault-kill", retried
    assert same_arrays(per_sample(result), reference) == []

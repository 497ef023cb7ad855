"""Tasks and devices: longest first, model affinity, who builds on whom, which devices exist."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lkadv.errors import ConfigError
from lkadv.executors import parse_devices
from lkadv.executors._tasks import Task, dependents, make_tasks, pick_task, unit_cost


def _cell(model: str, kind: str, eps: float | None = None, steps: int = 10, family: str = "pgd") -> Any:
    threat = SimpleNamespace(kind=kind, eps=eps, family=family, config=(("steps", steps),) if kind == "attack" else ())
    return SimpleNamespace(key=f"{model}/{kind}/{eps}/{family}", model=SimpleNamespace(name=model), threat=threat)


class _Plan:
    def __init__(self, cells: list[Any], n_samples: int, shard_size: int) -> None:
        self.cells = cells
        self.models = [SimpleNamespace(name=n) for n in dict.fromkeys(c.model.name for c in cells)]
        self.n_samples, self.shard_size = n_samples, shard_size

    @property
    def n_shards(self) -> int:
        return -(-self.n_samples // self.shard_size)

    def shard_bounds(self, shard: int) -> tuple[int, int]:
        return shard * self.shard_size, min(self.n_samples, (shard + 1) * self.shard_size)


def test_an_attack_unit_costs_its_passes_and_clean_one_pass():
    assert unit_cost(_cell("m", "clean"), 100) == 100
    assert unit_cost(_cell("m", "attack", 0.1, steps=10), 100) == (2 * 10 + 1) * 100


def test_tasks_group_a_models_units_of_a_shard_and_the_heaviest_go_first():
    cells = [_cell("light", "clean"), _cell("heavy", "clean"), _cell("heavy", "attack", 0.1, steps=50)]
    plan = _Plan(cells, n_samples=25, shard_size=10)  # shards of 10, 10 and 5
    pending = {(c.key, s) for c in cells for s in range(plan.n_shards)}
    tasks = make_tasks(plan, pending)  # type: ignore[arg-type]
    assert [(t.model, t.shard) for t in tasks] == [
        ("heavy", 0),
        ("heavy", 1),
        ("heavy", 2),
        ("light", 0),
        ("light", 1),
        ("light", 2),
    ]
    assert tasks[0].keys == [cells[1].key, cells[2].key]  # plan order inside a task: clean before its attacks
    assert tasks[2].cost == pytest.approx((1 + 101) * 5)


def test_only_pending_units_make_tasks():
    cells = [_cell("m", "clean"), _cell("m", "attack", 0.1)]
    plan = _Plan(cells, 20, 10)
    tasks = make_tasks(plan, {(cells[1].key, 1)})  # type: ignore[arg-type]
    assert [(t.model, t.shard, t.keys) for t in tasks] == [("m", 1, [cells[1].key])]


@given(
    st.lists(st.tuples(st.sampled_from("abcd"), st.floats(0, 100)), max_size=12),
    st.none() | st.sampled_from("abcde"),
)
def test_a_worker_gets_its_models_longest_task_else_the_longest_of_all(items, held):
    queue = sorted((Task(m, i, ["k"], cost) for i, (m, cost) in enumerate(items)), key=lambda t: -t.cost)
    index = pick_task(queue, held)
    if not queue:
        assert index is None
        return
    assert index is not None
    mine = [t for t in queue if t.model == held]
    if mine:
        assert queue[index] is mine[0] and queue[index].cost == max(t.cost for t in mine)
    else:
        assert index == 0 and queue[0].cost == max(t.cost for t in queue)


def test_attacks_build_on_clean_and_on_the_smaller_eps_of_their_family():
    clean, small, large = _cell("m", "clean"), _cell("m", "attack", 0.01), _cell("m", "attack", 0.1)
    other_family = _cell("m", "attack", 0.1, family="fgsm")
    corruption, other_model = _cell("m", "corruption"), _cell("n", "attack", 0.1)
    cells = [clean, small, large, other_family, corruption, other_model]
    assert dependents(cells, clean) == [small, large, other_family]  # type: ignore[arg-type]
    assert dependents(cells, small) == [large]  # type: ignore[arg-type]
    assert dependents(cells, large) == []  # type: ignore[arg-type]
    assert dependents(cells, corruption) == []  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "gpus", "expected"),
    [
        ("auto", 0, ["cpu"]),
        ("auto", 3, ["cuda:0", "cuda:1", "cuda:2"]),
        ("cpu,cpu", 0, ["cpu", "cpu"]),
        (" cuda:1 , CUDA:0 ", 2, ["cuda:1", "cuda:0"]),
        ("cuda", 1, ["cuda:0"]),
    ],
)
def test_devices_are_one_per_worker(text, gpus, expected):
    assert parse_devices(text, gpus=gpus) == expected


@pytest.mark.parametrize(
    ("text", "gpus", "words"),
    [
        ("cuda:7", 2, "cuda:7 does not exist here (only 2 CUDA GPU(s) are visible)"),
        ("cuda:0", 0, "no CUDA GPU is visible"),
        ("gpu", 1, "'gpu' is not a device"),
        ("cuda:x", 1, "'cuda:x' is not a device"),
        ("mps", 0, "'mps' is not a device"),
    ],
)
def test_a_device_that_is_not_there_is_a_config_error(text, gpus, words):
    with pytest.raises(ConfigError, match="--devices") as info:
        parse_devices(text, gpus=gpus)
    assert words in str(info.value)

"""``--executor auto`` (the default): local on one device, processes over every GPU when there are several."""

from __future__ import annotations

import pytest

from lkadv.errors import ConfigError
from lkadv.executors import LocalExecutor, ProcessesExecutor
from lkadv.executors._auto import auto_executor


@pytest.fixture
def gpus(monkeypatch: pytest.MonkeyPatch):
    def set_count(n: int) -> None:
        monkeypatch.setattr("lkadv.executors._auto.visible_gpus", lambda: n)
        monkeypatch.setattr("lkadv.executors._devices.visible_gpus", lambda: n)

    return set_count


@pytest.mark.parametrize("count", [0, 1])
def test_one_device_or_none_runs_in_this_process(gpus, count):
    gpus(count)
    assert isinstance(auto_executor(), LocalExecutor)


def test_several_gpus_get_one_worker_each(gpus):
    gpus(3)
    executor = auto_executor()
    assert isinstance(executor, ProcessesExecutor) and executor.devices == ["cuda:0", "cuda:1", "cuda:2"]


def test_an_explicit_device_keeps_the_run_on_it(gpus):
    gpus(3)
    executor = auto_executor(device="cpu")
    assert isinstance(executor, LocalExecutor) and executor.device.type == "cpu"


def test_listed_devices_decide(gpus):
    gpus(0)
    assert isinstance(auto_executor(devices="cpu,cpu"), ProcessesExecutor)
    single = auto_executor(devices="cpu")
    assert isinstance(single, LocalExecutor) and single.device.type == "cpu"
    with pytest.raises(ConfigError, match="cuda:1 does not exist here"):
        auto_executor(devices="cuda:1")

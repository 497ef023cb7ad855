"""Bad scale-out input: a GPU that is not there, Ray missing or unreachable, bad retry settings.

Each exits 2 with a message naming the problem and how to fix it, before the run directory exists.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from lkadv.cli import main

RUN = ["run", "-m", "fm-resnet", "--limit", "10"]

CASES = [
    ("devices-cuda-absent", [*RUN, "--executor", "processes", "--devices", "cuda:7"], {}, "cuda:7 does not exist here"),
    ("devices-auto-cuda", [*RUN, "--devices", "cpu,cuda:7"], {}, "cuda:7 does not exist here"),
    ("devices-nonsense", [*RUN, "--executor", "processes", "--devices", "gpu0"], {}, "'gpu0' is not a device"),
    (
        "attempts-zero",
        [*RUN, "--executor", "processes", "--devices", "cpu"],
        {"LKADV_MAX_ATTEMPTS": "0"},
        "environment variable LKADV_MAX_ATTEMPTS",
    ),
    ("ray-devices", [*RUN, "--executor", "ray", "--devices", "cuda:0"], {}, "use auto"),
]


def _check(tmp_path: Path, args: list[str], env: dict[str, str], words: str) -> None:
    res = CliRunner().invoke(main, args, env={"LKADV_RUN_DIR": str(tmp_path / "run"), **env})
    assert res.exit_code == 2, (res.exit_code, res.output, res.exception)
    assert words in res.output, res.output
    assert "Traceback" not in res.output
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize(("case", "args", "env", "words"), CASES, ids=[c[0] for c in CASES])
def test_bad_scale_out_input_exits_2_and_writes_nothing(tmp_path, monkeypatch, case, args, env, words):
    if case == "ray-devices":
        pytest.importorskip("ray")
        monkeypatch.setenv("RAY_ADDRESS", "127.0.0.1:9")  # never start a local Ray instance here
    _check(tmp_path, args, env, words)


def test_executor_ray_without_ray_says_how_to_install_it(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray fails as where it is not installed
    _check(tmp_path, [*RUN, "--executor", "ray"], {}, "pip install 'lkadv[ray]'")


def test_an_unreachable_ray_address_is_a_clear_error(tmp_path):
    pytest.importorskip("ray")
    _check(tmp_path, [*RUN, "--executor", "ray", "--ray-address", "127.0.0.1:9"], {}, "nothing answers at 127.0.0.1:9")


def test_doctor_reports_each_executor_and_why_one_is_unavailable(monkeypatch):
    import json

    monkeypatch.setitem(sys.modules, "ray", None)
    res = CliRunner().invoke(main, ["doctor", "--json"])
    assert res.exit_code == 0, res.output
    executors = json.loads(res.output)["executors"]
    assert executors["local"]["available"] and executors["processes"]["available"]
    assert not executors["ray"]["available"] and "lkadv[ray]" in executors["ray"]["detail"]
    assert "picks local" in executors["auto"]["detail"] or "picks processes" in executors["auto"]["detail"]

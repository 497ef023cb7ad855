import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from lkadv.cli import main

ROOT = Path(__file__).resolve().parents[2]


def invoke(*args, env=None):
    return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)


def test_unknown_model_exit_2_closest_names_nothing_written(tmp_path):
    run_dir = tmp_path / "run"
    res = invoke("run", "--models", "fm-resnt", "--attacks", "pgd", "--run-dir", str(run_dir))
    assert res.exit_code == 2
    assert "unknown model 'fm-resnt'" in res.output and "closest: fm-resnet" in res.output
    assert not run_dir.exists()


@pytest.mark.parametrize(("name", "value"), [("LKADV_CPU_LANES", "many"), ("LKADV_FOLD_BN", "maybe")])
def test_bad_engine_switches_exit_2_before_anything_is_written(tmp_path, name, value):
    run_dir = tmp_path / "r"
    res = invoke("run", "--models", "fm-resnet", "--attacks", "pgd", "--run-dir", str(run_dir), env={name: value})
    assert res.exit_code == 2 and f"environment variable {name}" in res.output
    assert not run_dir.exists()


def test_bad_option_values_exit_2(tmp_path):
    res = invoke("run", "--eps", "abc", "--run-dir", str(tmp_path / "r"))
    assert res.exit_code == 2 and "option --eps" in res.output
    assert not (tmp_path / "r").exists()
    res = invoke("run", "--resume", "--run-dir", str(tmp_path / "nothing"))
    assert res.exit_code == 2 and "holds no run to resume" in res.output


def test_plugins_lists_broken_ones(fake_plugins):
    res = invoke("plugins", "--json")
    rows = {r["name"]: r for r in json.loads(res.output)}
    assert rows["broken_import"]["status"] == "broken" and "broken on purpose" in rows["broken_import"]["errors"][0]
    assert rows["broken_hook"]["status"] == "broken" and "hook exploded" in rows["broken_hook"]["errors"][0]
    assert rows["good"]["registered"] == {"attacks": ["noop"]}
    res = invoke("plugins")
    assert res.exit_code == 0 and "broken" in res.output


def test_run_works_with_broken_plugins_present(fake_plugins, tmp_path):
    res = invoke(
        "-p",
        "tests.toy_plugin",
        "run",
        "-m",
        "toy-0",
        "-d",
        "toy",
        "-a",
        "pgd,noop",
        "--limit",
        "40",
        "--run-dir",
        str(tmp_path),
    )
    assert res.exit_code == 0, res.output
    assert "noop@0.01" in res.output and "pgd@0.1" in res.output


def test_strict_plugins_fail(fake_plugins):
    res = invoke("--strict-plugins", "list", "models")
    assert res.exit_code == 1 and "strict plugin mode" in res.output


def test_disable_plugin_for_one_run(tmp_path):
    res = invoke("-p", "no:lkadv.attacks", "list", "attacks", "--json")
    # Only what installed third-party plugins (lkadv-torchattacks...) register is left.
    assert [r for r in json.loads(res.output) if r["plugin"] == "lkadv.attacks"] == []


def test_list_json_and_select():
    rows = json.loads(invoke("list", "models", "--json", "--select", "tag:large-kernel").output)
    zoo = {r["name"]: r for r in rows if r["plugin"] == "lkadv.zoo"}  # installed plugins may add more
    assert set(zoo) == {"fm-replknet", "fm-slak"}
    assert all(r["kernel_sizes"] == [13, 13] for r in zoo.values())
    attacks = {r["name"]: r for r in json.loads(invoke("list", "attacks", "--json").output)}
    assert attacks["pgd"]["default_config"]["steps"] == 10 and attacks["pgd"]["backend"] == "lkadv"
    aa = attacks["autoattack"]["default_config"]
    assert aa["backend"] == "pyautoattack" and aa["backend_version"] == attacks["autoattack"]["backend_version"]
    assert aa["ensemble"].startswith("apgd-ce(iter=100,restarts=1)+apgd-t(iter=100,restarts=1,targets=9)+")
    assert {"backend", "backend_version", "norm"} <= set(attacks["onepixel"]["default_config"])
    datasets = json.loads(invoke("list", "datasets", "--json").output)
    assert datasets[0]["name"] == "fashion-mnist"


def test_report_formats_and_doctor(tmp_path):
    res = invoke(
        "-p",
        "tests.toy_plugin",
        "run",
        "-m",
        "tag:toy",
        "-d",
        "toy",
        "-a",
        "fgsm",
        "--limit",
        "40",
        "--run-dir",
        str(tmp_path),
        "-q",
    )
    assert res.exit_code == 0, res.output
    csv_text = invoke("report", str(tmp_path), "-f", "csv").output
    assert csv_text.splitlines()[0].startswith("model,family,threat,threat_id")
    assert len(csv_text.splitlines()) == 1 + 2 * 4
    summary = json.loads(invoke("report", str(tmp_path), "-f", "json").output)
    assert summary["run"]["provenance"]["versions"]["torch"]
    md = invoke("report", str(tmp_path), "-f", "md").output
    assert "| toy-0 | tiny |" in md and "fgsm = fgsm[backend=lkadv" in md
    out = tmp_path / "r.md"
    assert invoke("report", str(tmp_path), "-f", "md", "-o", str(out)).exit_code == 0 and out.read_text() == md
    assert invoke("report", str(tmp_path / "nope")).exit_code == 2  # a wrong argument
    assert invoke("report", str(tmp_path), "-f", "pdf").exit_code == 2
    doc = json.loads(invoke("doctor", "--json").output)
    assert doc["device"] == "cpu" and doc["precision"]["fp32"] == "yes"
    assert {"name": "fashion-mnist", "source": "shipped", "root": None, "status": "shipped"} in doc["datasets"]


def _cli(*args, **kw):
    env = kw.pop("env", None) or {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, "-m", "lkadv", "-p", "tests.toy_plugin", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **kw,
    )


def _units(run_dir: Path) -> int:
    try:
        with sqlite3.connect(f"file:{run_dir / 'ledger.sqlite'}?mode=ro", uri=True, timeout=5) as db:
            return db.execute("SELECT COUNT(*) FROM units").fetchone()[0]
    except sqlite3.OperationalError:
        return 0


def _wait_for(path: Path, proc: subprocess.Popen) -> None:
    """Until ``path`` exists or ``proc`` ends: an event, never a wall-clock limit."""
    while not path.exists() and proc.poll() is None:
        time.sleep(0.05)


@pytest.mark.slow
def test_kill_9_then_resume_equals_uninterrupted(tmp_path):
    args = ["run", "-m", "tag:toy", "-d", "toy", "-a", "pgd", "--shard-size", "20", "-q"]
    marker = tmp_path / "paused"
    # The toy plugin pauses for ever after its 5th committed unit: the kill lands at a known point.
    pause = {"LKADV_TOY_PAUSE_AFTER": "5", "LKADV_TOY_PAUSE_MARKER": str(marker)}
    victim = _cli(*args, "--run-dir", str(tmp_path / "killed"), env={**os.environ, "PYTHONPATH": str(ROOT), **pause})
    _wait_for(marker, victim)
    assert victim.poll() is None, victim.communicate()[1]
    victim.send_signal(signal.SIGKILL)
    victim.wait()
    kept = _units(tmp_path / "killed")
    total = 2 * 4 * 20
    assert kept == 5
    resumed = _cli(*args, "--run-dir", str(tmp_path / "killed"))
    _, err = resumed.communicate()
    assert resumed.returncode == 0, err
    assert f"{total - kept} units computed, {kept} reused" in err
    clean = _cli(*args, "--run-dir", str(tmp_path / "clean"))
    clean.communicate()

    def table(d):
        rows = invoke("report", str(tmp_path / d), "-f", "csv").output.splitlines()
        return [",".join(r.split(",")[:12]) for r in rows]  # without timing and keys... keys are equal anyway

    assert table("killed") == table("clean")


class _Doctor:
    @staticmethod
    def lkadv_doctor_checks():
        from lkadv.plugins import DoctorCheck

        return [DoctorCheck("weights", "foo.pth", "missing", "download it")]


def test_doctor_shows_plugin_checks(monkeypatch):
    from lkadv import hookimpl
    from lkadv.cli import _common
    from lkadv.plugins import PluginHost

    hookimpl(_Doctor.lkadv_doctor_checks)
    host = PluginHost(entry_points=False, extra=[("doc", _Doctor)])
    monkeypatch.setattr(_common, "get_host", lambda ctx, **_: host)
    monkeypatch.setattr("lkadv.cli._doctor.get_host", lambda ctx, **_: host)
    doc = json.loads(invoke("doctor", "--json").output)
    assert doc["checks"] == [{"section": "weights", "name": "foo.pth", "status": "missing", "detail": "download it"}]
    assert "foo.pth" in invoke("doctor").output


def test_bad_spec_error_names_plugin_and_field():
    res = invoke("-p", "tests.plugins.bad_spec_plugin", "plugins", "--json")
    row = next(r for r in json.loads(res.stdout) if r["name"] == "tests.plugins.bad_spec_plugin")
    assert row["status"] == "broken"
    assert "plugin 'tests.plugins.bad_spec_plugin': ModelSpec 'bad-mean': field 'mean'" in row["errors"][0]
    res = invoke("--strict-plugins", "-p", "tests.plugins.bad_spec_plugin", "list", "models")
    assert res.exit_code == 1
    assert "plugin 'tests.plugins.bad_spec_plugin': ModelSpec 'bad-mean': field 'mean' has 3 values" in res.output


def test_disable_plugin_through_the_environment():
    res = invoke("list", "attacks", "--json", env={"LKADV_DISABLE_PLUGINS": "lkadv.attacks"})
    assert not {r["name"] for r in json.loads(res.stdout)} & {"pgd", "fgsm"}
    rows = {
        r["name"]: r
        for r in json.loads(invoke("plugins", "--json", env={"LKADV_DISABLE_PLUGINS": "lkadv.attacks"}).stdout)
    }
    assert rows["lkadv.attacks"]["status"] == "disabled"


def test_error_messages_keep_square_brackets(tmp_path):
    res = invoke(
        "run",
        "-m",
        "timm:test_resnet[pretrained=false]",
        "-d",
        "imagenet-a",
        "--run-dir",
        str(tmp_path / "r"),
        env={"LKADV_IMAGENET_A": ""},
    )
    assert res.exit_code == 2
    assert '[data] imagenet-a = "PATH"' in res.output
    assert not (tmp_path / "r").exists()


def test_subset_file_ids_and_no_limit_hint_for_files(tmp_path):
    # (empty and binary subset files: tests/cli/test_bad_inputs.py)
    ids = tmp_path / "ids.txt"
    ids.write_text("toy/3\ntoy/7  \n\ntoy/11 extra-column\n")
    args = ["-p", "tests.toy_plugin", "run", "-m", "toy-0", "-d", "toy", "--subset", f"file:{ids}"]
    res = invoke(*args, "--run-dir", str(tmp_path / "r"))
    assert res.exit_code == 0, res.output
    md = invoke("report", str(tmp_path / "r"), "-f", "md").output
    assert "3 of 400 samples: file(ids.txt)" in md and "--limit 0" not in md

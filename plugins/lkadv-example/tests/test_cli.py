"""Installed, the plugin's model, attack and corruption are listed and run by the lkadv command."""

import json

from click.testing import CliRunner

from lkadv.cli import main


def lkadv(*args):
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.stdout


def test_listed_by_lkadv():
    assert [r["plugin"] for r in json.loads(lkadv("list", "models", "--json", "--select", "example-*"))] == ["example"]
    assert "example-random-noise" in {r["name"] for r in json.loads(lkadv("list", "attacks", "--json"))}
    assert "example-posterize" in {r["name"] for r in json.loads(lkadv("list", "corruptions", "--json"))}
    plugin = next(p for p in json.loads(lkadv("plugins", "--json")) if p["name"] == "example")
    assert plugin["status"] == "ok" and plugin["version"] == "0.1.0"


def test_run_by_lkadv(tmp_path):
    args = ["run", "-m", "example-repcnn", "-a", "example-random-noise", "--eps", "0.1"]
    out = lkadv(
        *args, "-c", "example-posterize", "--severities", "1,5", "--limit", "40", "--run-dir", str(tmp_path), "-q"
    )
    assert "example-random-noise" in out and "example-posterize" in out
    cells = json.loads(lkadv("report", str(tmp_path), "--format", "json"))["cells"]
    assert {(c["kind"], c["name"], c["status"]) for c in cells} == {
        ("clean", "clean", "done"),
        ("attack", "example-random-noise", "done"),
        ("corruption", "example-posterize", "done"),
    }
    assert len(cells) == 4  # clean, one eps, two severities

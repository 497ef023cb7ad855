"""``lkadv doctor`` with LKADV_DATA_ROOT at the fake trees lists every benchmark as found, with counts."""

from __future__ import annotations

import json

from click.testing import CliRunner

from lkadv.cli import main

EXPECTED = {
    "imagenet": 1000,
    "imagenet-c": 5000,
    "imagenet-a": 200,
    "imagenet-r": 200,
    "imagenet-o": 4,
    "imagenet-p": 3,
    "imagenet-9": 27,
    "imagenet-sketch": 1000,
    "imagenet-v2": 1000,
    "stylized-imagenet": 1000,
}


def test_doctor_finds_every_benchmark(data_root, monkeypatch):
    for name in EXPECTED:
        monkeypatch.delenv("LKADV_DATA_" + name.upper().replace("-", "_"), raising=False)
    monkeypatch.setenv("LKADV_DATA_ROOT", str(data_root))
    result = CliRunner().invoke(main, ["doctor", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    rows = {r["name"]: r for r in report["datasets"]}
    for name, count in EXPECTED.items():
        assert rows[name]["status"] == "found", rows[name]
        assert rows[name]["images"] == count, (name, rows[name])
        assert rows[name]["source"] == "LKADV_DATA_ROOT"
    checks = {c["name"]: c for c in report["checks"] if c["section"] == "imagenet benchmarks"}
    assert checks["imagenet-o"]["status"] == "ok"
    assert checks["imagenet-c"]["status"] == "warn" and "shot_noise" in checks["imagenet-c"]["detail"]


def test_doctor_says_what_is_missing(tmp_path, monkeypatch):
    monkeypatch.setenv("LKADV_DATA_ROOT", str(tmp_path))
    (tmp_path / "imagenet-a").mkdir()
    result = CliRunner().invoke(main, ["doctor", "--json"])
    rows = {r["name"]: r for r in json.loads(result.output)["datasets"]}
    assert rows["imagenet-r"]["status"].startswith("missing")
    assert rows["imagenet-a"]["status"].startswith("broken") and "no class folders" in rows["imagenet-a"]["status"]

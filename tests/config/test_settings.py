"""One owner for every setting: each value with where it came from, as ``lkadv doctor`` lists them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from lkadv.cli import main
from lkadv.config import (
    OTHER_VARIABLES,
    RunOptions,
    download_cache,
    env_bool,
    env_names,
    explain_settings,
    lkadv_environment,
)
from lkadv.errors import ConfigError


def test_each_setting_names_its_source(tmp_path: Path) -> None:
    config = tmp_path / "lkadv.toml"
    config.write_text('[run]\nseed = 7\n\n[data]\nfashion-mnist = "/data/fm"\n')
    env = {"LKADV_PRECISION": "bf16", "LKADV_CACHE": "/cache", "LKADV_FOLD_BN": "0"}
    rows = {r.name: r for r in explain_settings({"limit": 5}, env=env, config_file=config)}
    assert (rows["limit"].value, rows["limit"].source) == ("5", "option --limit")
    assert (rows["precision"].value, rows["precision"].source) == ("bf16", "environment variable LKADV_PRECISION")
    assert rows["seed"].value == "7" and rows["seed"].source.endswith("[run].seed")
    assert rows["data_roots"].source.endswith("[data]") and rows["data_roots"].variable == "config file [data]"
    assert (rows["fold_bn"].value, rows["device"].source) == ("False", "default")
    assert rows["LKADV_CACHE"].value == "/cache" and rows["LKADV_CACHE"].source == "environment"
    assert set(OTHER_VARIABLES) <= set(rows)


def test_a_bad_value_is_named_with_its_variable() -> None:
    with pytest.raises(ConfigError, match="environment variable LKADV_CPU_LANES"):
        explain_settings(env={"LKADV_CPU_LANES": "0"})


def test_the_helpers_read_only_the_mapping_given() -> None:
    env = {"LKADV_CACHE": "/c", "LKADV_LOAD_PLUGINS": "a, b,", "LKADV_X": "1", "HOME": "/h"}
    assert download_cache(env) == Path("/c")
    assert env_names("LKADV_LOAD_PLUGINS", env) == {"a", "b"} and env_names("LKADV_DISABLE_PLUGINS", env) is None
    assert env_bool("LKADV_X", env) and not env_bool("LKADV_Y", env)
    assert lkadv_environment(env) == {"LKADV_CACHE": "/c", "LKADV_LOAD_PLUGINS": "a, b,", "LKADV_X": "1"}


def test_options_carry_the_environment_they_were_made_in(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LKADV_DATA_IMAGENET", "/data/in")
    options = RunOptions()
    monkeypatch.delenv("LKADV_DATA_IMAGENET")
    assert options.environment["LKADV_DATA_IMAGENET"] == "/data/in"  # a worker elsewhere sees the same roots


def test_doctor_lists_every_setting_with_its_source(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["doctor", "--json"], env={"LKADV_SEED": "3", "LKADV_CONFIG": None})
    assert result.exit_code == 0, result.output
    rows = {r["name"]: r for r in json.loads(result.output)["settings"]}
    assert rows["seed"] == {
        "name": "seed",
        "value": "3",
        "source": "environment variable LKADV_SEED",
        "variable": "LKADV_SEED",
    }
    assert {f for f in rows} >= {"models", "attacks", "precision", "cpu_lanes", "LKADV_CACHE", "LKADV_DATA_ROOT"}

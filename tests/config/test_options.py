from pathlib import Path

import pytest

from lkadv.config import load_options, parse_eps, parse_params
from lkadv.errors import ConfigError


def test_defaults():
    opts = load_options({}, env={}, config_file=None)
    assert opts.models == "all" and opts.dataset == "fashion-mnist" and opts.precision == "fp32"
    assert opts.run_dir == Path("lkadv-runs")


def test_precedence_flag_over_env_over_file(tmp_path):
    cfg = tmp_path / "lkadv.toml"
    cfg.write_text('[run]\nmodels = "from-file"\nlimit = 7\nseed = 3\n[attacks.pgd]\nsteps = 3\n[data]\nfoo = "/d"\n')
    opts = load_options({"models": "from-flag", "seed": None}, env={"LKADV_LIMIT": "9"}, config_file=cfg)
    assert opts.models == "from-flag"
    assert opts.limit == 9
    assert opts.seed == 3
    assert opts.attack_defaults == {"pgd": {"steps": 3}} and opts.attack_params == {}
    assert opts.data_roots == {"foo": "/d"}


def test_every_option_has_an_env_var():
    env = {
        "LKADV_MODELS": "a",
        "LKADV_DATASET": "b",
        "LKADV_ATTACKS": "pgd",
        "LKADV_EPS": "1/255,2/255",
        "LKADV_ATTACK_PARAMS": "pgd.steps=5",
        "LKADV_CORRUPTIONS": "fog",
        "LKADV_SEVERITIES": "1,3",
        "LKADV_LIMIT": "0",
        "LKADV_SEED": "4",
        "LKADV_PRECISION": "bf16",
        "LKADV_DEVICE": "cpu",
        "LKADV_BATCH_SIZE": "8",
        "LKADV_SHARD_SIZE": "16",
        "LKADV_RUN_DIR": "/tmp/x",
        "LKADV_EXECUTOR": "local",
        "LKADV_STRICT_PLUGINS": "1",
    }
    opts = load_options({}, env=env, config_file=None)
    assert opts.eps == (1 / 255, 2 / 255)
    assert opts.attack_params == {"pgd": {"steps": "5"}}
    assert opts.severities == (1, 3) and opts.limit == 0 and opts.precision == "bf16"
    assert opts.batch_size == 8 and opts.shard_size == 16 and opts.strict_plugins is True


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"LKADV_LIMIT": "ten"}, "LKADV_LIMIT: expected an integer"),
        ({"LKADV_PRECISION": "fp8"}, "LKADV_PRECISION: expected one of fp32, bf16, fp16"),
        ({"LKADV_EPS": "2/0"}, "LKADV_EPS"),
        ({"LKADV_EPS": "-1"}, "eps must be a finite number >= 0"),
        ({"LKADV_ATTACK_PARAMS": "steps=3"}, "ATTACK.PARAM=VALUE"),
        ({"LKADV_BATCH_SIZE": "0"}, ">= 1"),
    ],
)
def test_bad_values_name_their_source(env, message):
    with pytest.raises(ConfigError, match=message):
        load_options({}, env=env, config_file=None)


def test_bad_config_files(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        load_options({}, env={}, config_file=tmp_path / "missing.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("[run\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_options({}, env={}, config_file=bad)
    bad.write_text("[run]\nmodles = 'x'\n")
    with pytest.raises(ConfigError, match=r"unknown key \[run\].modles"):
        load_options({}, env={}, config_file=bad)


def test_parsers():
    assert parse_eps("8/255, 0.01,8/255", "x") == (0.01, 8 / 255)
    assert parse_params(["pgd.steps=3", "fgsm.loss=margin"], "x") == {"pgd": {"steps": "3"}, "fgsm": {"loss": "margin"}}


def test_data_options_from_flag_env_and_file(tmp_path):
    from pathlib import Path

    from lkadv.config import load_options
    from lkadv.errors import ConfigError

    cfg = tmp_path / "lkadv.toml"
    cfg.write_text('[run]\non_bad_image = "skip"\nsubset = "fixed-5k"\ncache_dir = "off"\nworkers = 3\n')
    opts = load_options({}, env={}, config_file=cfg)
    assert (opts.on_bad_image, opts.subset, opts.prepared_cache(), opts.decode_workers()) == (
        "skip",
        "fixed-5k",
        None,
        3,
    )
    opts = load_options({"workers": 0}, env={"LKADV_ON_BAD_IMAGE": "fail", "LKADV_CACHE_DIR": str(tmp_path)})
    assert opts.on_bad_image == "fail" and opts.prepared_cache() == Path(tmp_path) and opts.decode_workers() == 0
    assert load_options({}, env={}).prepared_cache().parts[-2:] == ("lkadv", "prepared")
    import pytest

    with pytest.raises(ConfigError, match=r"--on-bad-image.*fail, skip"):
        load_options({"on_bad_image": "ignore"}, env={})


def test_python_api_takes_plain_strings_and_paths():
    from lkadv import RunOptions

    opts = RunOptions(run_dir="apiruns", eps="8/255", severities="1,3", limit="20", precision="BF16")
    assert opts.run_dir == Path("apiruns") and opts.eps == (8 / 255,) and opts.severities == (1, 3)
    assert opts.limit == 20 and opts.precision == "bf16"
    assert opts == load_options(
        {"run_dir": "apiruns", "eps": "8/255", "severities": "1,3", "limit": 20, "precision": "bf16"},
        env={},
        config_file=None,
    )
    with pytest.raises(ConfigError, match=r"RunOptions\(eps=...\): 'abc' is not a radius"):
        RunOptions(eps="abc")


def test_file_parameters_of_unselected_attacks_are_not_an_error(tmp_path):
    from lkadv.plugins import PluginHost
    from lkadv.runner import plan_run

    cfg = tmp_path / "lkadv.toml"
    cfg.write_text("[attacks.pgd]\nsteps = 20\n[attacks.fgsm]\nnorm = 'l2'\n")
    host = PluginHost(entry_points=False)
    opts = load_options({"models": "fm-resnet", "attacks": "fgsm", "limit": 10}, env={}, config_file=cfg)
    plan = plan_run(opts, host)
    assert {dict(c.threat.config)["norm"] for c in plan.cells if c.threat.kind == "attack"} == {"l2"}
    opts = load_options(
        {"models": "fm-resnet", "attacks": "pgd", "attack_params": "pgd.steps=7", "limit": 10}, env={}, config_file=cfg
    )
    assert {dict(c.threat.config)["steps"] for c in plan_run(opts, host).cells if c.threat.kind == "attack"} == {7}
    with pytest.raises(ConfigError, match="does not select"):  # from the command line, still an error
        plan_run(
            load_options(
                {"models": "fm-resnet", "attacks": "fgsm", "attack_params": "pgd.steps=3", "limit": 10},
                env={},
                config_file=cfg,
            ),
            host,
        )


@pytest.mark.parametrize(("value", "strict"), [("y", True), ("yes", True), ("1", True), ("n", False), ("0", False)])
def test_strict_plugins_means_the_same_everywhere(monkeypatch, value, strict):
    from click.testing import CliRunner

    from lkadv.cli import main
    from lkadv.plugins import PluginHost

    monkeypatch.setenv("LKADV_STRICT_PLUGINS", value)
    assert PluginHost(entry_points=False).strict is strict  # the host
    assert load_options({}, config_file=None).strict_plugins is strict  # run options
    seen = {}
    monkeypatch.setattr("lkadv.cli._common.PluginHost", lambda **kw: seen.update(kw) or PluginHost(entry_points=False))
    CliRunner().invoke(main, ["list", "models"], env={"LKADV_STRICT_PLUGINS": value})
    assert bool(seen["strict"]) is strict  # the command line


def test_a_bad_strict_plugins_value_is_an_error(monkeypatch):
    from lkadv.plugins import PluginHost

    monkeypatch.setenv("LKADV_STRICT_PLUGINS", "maybe")
    with pytest.raises(ConfigError, match="LKADV_STRICT_PLUGINS: expected true or false"):
        PluginHost(entry_points=False)
    with pytest.raises(ConfigError, match="LKADV_STRICT_PLUGINS"):
        load_options({}, config_file=None)

"""The built-in analyses plugin: listing is cheap (no torch), specs are valid, parameters are checked."""

from __future__ import annotations

import subprocess
import sys

import pytest

from lkadv.analyses import select_analyses
from lkadv.errors import ConfigError
from lkadv.plugins import PluginHost


def test_listing_analyses_imports_no_torch() -> None:
    code = (
        "import sys, lkadv.analyses\n"
        "from lkadv.plugins import PluginHost\n"
        "names = PluginHost(entry_points=False).registries.analyses.names()\n"
        "assert 'torch' not in sys.modules, 'torch imported'\n"
        "print(','.join(names))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert sorted(out.strip().split(",")) == sorted(
        ["erf", "feature-variance", "frequency", "kernel-attention", "lesion", "occlusion", "shape-bias"]
    )


def test_presets_and_defaults() -> None:
    host = PluginHost(entry_points=False)
    lkrobust = {s.name for s in host.registries.analyses.select("preset:lkrobust")}
    assert lkrobust == {"occlusion", "kernel-attention", "frequency", "feature-variance", "lesion"}
    chosen = {spec.name: params for spec, _, params, _ in select_analyses(host, "all", {})}
    assert chosen["occlusion"]["lambdas"].split(",")[0] == "0.1" and chosen["occlusion"]["head"] == 1
    assert chosen["frequency"] == {"rms": 0.1, "step": 0.1, "top": 1.0, "half_width": 0.05}
    assert chosen["lesion"]["draws"] == 10 and chosen["erf"]["thresholds"] == "0.2,0.3,0.5,0.99"


@pytest.mark.parametrize(
    ("params", "words"),
    [
        ({"occlusion": {"lambdas": "0.5,1.01"}}, "outside (0, 1]"),
        ({"occlusion": {"modes": "random,sideways"}}, "unknown ['sideways']"),
        ({"lesion": {"stage": "0"}}, "stage number from 1"),
        ({"erf": {"thresholds": "a"}}, "not a comma-separated list"),
        ({"frequency": {"rms": "-1"}}, ">= 0.0"),
    ],
)
def test_bad_parameters_are_config_errors(params: dict[str, dict[str, str]], words: str) -> None:
    with pytest.raises(ConfigError) as err:
        select_analyses(PluginHost(entry_points=False), "all", params)
    assert words in str(err.value)
    assert err.value.exit_code == 2

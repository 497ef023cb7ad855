"""The public surface is exact: every package's ``__all__`` is what it exports, and resolves."""

import importlib
import subprocess
import sys

import pytest

import lkadv

PACKAGES = [
    "lkadv",
    "lkadv.attacks",
    "lkadv.config",
    "lkadv.corruptions",
    "lkadv.datasets",
    "lkadv.datasets.imagenet",
    "lkadv.errors",
    "lkadv.executors",
    "lkadv.metrics",
    "lkadv.models",
    "lkadv.planner",
    "lkadv.plugins",
    "lkadv.registries",
    "lkadv.reporters",
    "lkadv.specs",
    "lkadv.store",
    "lkadv.testing",
    "lkadv.zoo",
]


def test_top_level_all_is_exact():
    assert sorted(lkadv.__all__) == sorted(
        [
            "AnalysisSpec",
            "AttackSpec",
            "Classifier",
            "CorruptionSpec",
            "DatasetSpec",
            "ExecutorSpec",
            "Ledger",
            "ModelSpec",
            "Param",
            "Plan",
            "PluginHost",
            "Preprocessing",
            "ReporterSpec",
            "RunOptions",
            "RunResult",
            "Summary",
            "__version__",
            "build_classifier",
            "hookimpl",
            "hookspec",
            "load_options",
            "make_plan",
            "run",
            "summarize",
        ]
    )


@pytest.mark.parametrize("name", PACKAGES)
def test_all_resolves_and_is_sorted_and_unique(name):
    module = importlib.import_module(name)
    exported = module.__all__
    assert len(set(exported)) == len(exported)
    for attr in exported:
        assert getattr(module, attr) is not None, attr
    public = {n for n in dir(module) if not n.startswith("_")}
    submodules = {n for n in public if type(getattr(module, n)).__name__ == "module"}
    assert public - submodules - {"annotations", "TYPE_CHECKING", "lazy_attributes"} <= set(exported) | {
        "logging",
        "click",
    }


def test_importing_lkadv_and_listing_does_not_import_torch():
    code = (
        "import sys, lkadv, lkadv.plugins; h = lkadv.plugins.PluginHost(entry_points=False); "
        "assert len(h.registries.models) >= 7; print('torch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_version_matches_metadata():
    from importlib.metadata import version

    assert lkadv.__version__ == version("lkadv")


def test_the_pytest_plugin_entry_point_stays_light():
    # pytest loads it in every run where lkadv is installed: no torch at import.
    code = "import sys, lkadv.testing, lkadv.testing._pytest_plugin; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"

"""The mCE baseline a plan records: named by the run, or the dataset's default if it runs."""

import pytest

from lkadv.config import load_options
from lkadv.errors import ConfigError
from lkadv.runner import plan_run


def _plan(host, **kw):
    return plan_run(load_options(dict(corruptions="contrast", severities="1", limit=20, **kw), env={}), host)


def test_fashion_mnist_defaults_to_fm_resnet(host):
    plan = _plan(host, models="fm-resnet,fm-vit")
    assert plan.mce_baseline == "fm-resnet"
    assert plan.describe()["mce_baseline"] == "fm-resnet" and plan.describe()["label_space"] == "fashion-mnist"


def test_no_default_when_the_baseline_does_not_run(host):
    assert _plan(host, models="fm-vit").mce_baseline is None


def test_named_baseline_wins_and_must_run(host):
    assert _plan(host, models="fm-resnet,fm-vit", mce_baseline="fm-vit").mce_baseline == "fm-vit"
    with pytest.raises(ConfigError, match="--mce-baseline 'fm-slak' is not a model of this run"):
        _plan(host, models="fm-vit", mce_baseline="fm-slak")

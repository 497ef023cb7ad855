"""MI-FGSM, TI-FGSM and DI-FGSM from torchattacks as transfer sources (lkadv run --source-models)."""

import numpy as np
import pytest

from lkadv.plugins import PluginHost
from lkadv.runner import run
from lkadv.store import ExampleStore
from lkadv_torchattacks import _plugin as plugin_module
from tests_support import FAST

pytest.importorskip("torchattacks", reason="pip install --no-deps torchattacks==3.5.1")

SOURCES = ["ta-mifgsm", "ta-tifgsm", "ta-difgsm"]


def test_torchattacks_transfer_sources_craft_once_and_score_every_target(tmp_path) -> None:
    host = PluginHost(entry_points=False, extra=[("torchattacks", plugin_module)])
    result = run(
        models="fm-resnet,fm-vit",
        attacks=",".join(SOURCES),
        source_models="fm-resnet",
        eps="8/255",
        limit=10,
        run_dir=tmp_path,
        attack_params={name: FAST[name] for name in SOURCES},
        host=host,
        progress=False,
    )
    assert not result.failures, result.failures
    transfer = [c for c in result.summary.cells if c.kind == "transfer"]
    assert {c.label for c in transfer} == {f"{s}@8/255 from fm-resnet" for s in SOURCES}
    assert {c.model for c in transfer} == {"fm-resnet", "fm-vit"}
    store = ExampleStore(tmp_path)
    assert len(store.list_keys()) == len(SOURCES)  # one example set per attack, shared by both targets
    for key in store.list_keys():
        ex = store.get(key)
        assert ex is not None and ex.images.dtype == np.uint8 and ex.meta["source"] == "fm-resnet"
    white_box = next(c for c in transfer if c.model == "fm-resnet" and c.name == "ta-mifgsm")
    assert white_box.accuracy is not None and white_box.accuracy.value < 0.9  # MI-FGSM-3 does bite on its source

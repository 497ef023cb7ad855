"""lkadv's conformance kit on a registered spec, as a third party would run it.

Every spec needs its official file; the smallest (UniRepLKNet-A) gets random weights saved
under its official name, and the kit checks it at its native 224px input.
"""

import torch

from conftest import randomize
from lkadv.testing import check_model
from lkadv_largekernel import WEIGHTS, build


def test_unireplknet_a_meets_every_model_contract(lk_host, hermetic):
    torch.manual_seed(0)
    entry = WEIGHTS["unireplknet_a.in1k"]
    torch.save({"model": randomize(build("unireplknet_a")).state_dict()}, hermetic / "weights" / entry.filename)
    results = check_model(lk_host.registries.models.get(entry.name), host=lk_host, batch=2)
    # Random weights classify nothing, so the accuracy-based normalization check has no data to use.
    assert results.pop("model.normalization-inside").startswith("skipped")
    assert results and set(results.values()) == {"ok"}, results
    assert "model.reparam-equivalence" in results

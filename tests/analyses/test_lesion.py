"""Lesions: only shape-preserving blocks, modules restored exactly; results do not depend on the batch size."""

from __future__ import annotations

from pathlib import Path

import torch

from lkadv.analyses import analyze, lesioned, shape_preserving
from lkadv.config import load_options
from lkadv.plugins import PluginHost


def _resnet() -> torch.nn.Module:
    from lkadv.models import build_classifier

    spec = PluginHost(entry_points=False).registries.models.get("fm-resnet")
    clf, _ = build_classifier(spec, channels_last=False)
    return clf


def test_only_stride_one_blocks_preserve_shape() -> None:
    clf = _resnet()
    names = [f"stages.{i}" for i in range(4)]
    assert shape_preserving(clf, clf.network, names, torch.rand(2, 1, 28, 28)) == {"stages.1", "stages.3"}


def test_lesioned_blocks_are_identities_and_come_back() -> None:
    clf = _resnet()
    x = torch.rand(4, 1, 28, 28, generator=torch.Generator().manual_seed(0))
    block = clf.network.stages[1]
    with torch.no_grad():
        before = clf(x)
        with lesioned(clf.network, ["stages.1"]):
            assert isinstance(clf.network.stages[1], torch.nn.Identity)
            changed = clf(x)
        after = clf(x)
    assert clf.network.stages[1] is block
    assert torch.equal(before, after) and not torch.equal(before, changed)


def test_results_do_not_depend_on_the_batch_size(tmp_path: Path) -> None:
    # The batch size is not part of a unit's key: this is why.
    params = {"occlusion": {"modes": "random", "steps": "4"}, "frequency": {"step": "0.5"}}
    tables = []
    for batch in ("7", "64"):
        options = load_options(
            {"models": "fm-replknet", "limit": "70", "batch_size": batch, "run_dir": tmp_path / batch},
            env={},
            config_file=None,
        )
        tables.append(analyze(options, "occlusion,frequency", params, host=PluginHost(entry_points=False)).tables)
    assert tables[0] == tables[1]

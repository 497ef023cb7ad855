"""Any cell can be repeated with its backend from lkadv's exports alone (AutoAttack as the example)."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from click.testing import CliRunner

from lkadv.cli import main
from lkadv.models import build_classifier
from lkadv.plugins import PluginHost
from lkadv.specs import Preprocessing

pyautoattack = pytest.importorskip("pyautoattack")


def _cli(*args: str) -> str:
    res = CliRunner().invoke(main, list(args), catch_exceptions=False)
    assert res.exit_code == 0, res.output
    return res.output


@pytest.mark.slow
def test_an_autoattack_cell_is_reproduced_from_the_json_export_alone(tmp_path: Path) -> None:
    run_dir = str(tmp_path / "run")
    _cli(
        "run",
        "-m",
        "fm-resnet",
        "-a",
        "autoattack",
        "--eps",
        "8/255",
        "--limit",
        "40",
        "--batch-size",
        "12",
        "--shard-size",
        "20",
        "--attack-param",
        "autoattack.version=custom",
        "--attack-param",
        "autoattack.attacks=apgd-ce+apgd-t",
        "--attack-param",
        "autoattack.iterations=5",
        "--run-dir",
        run_dir,
        "-q",
    )
    report = json.loads(_cli("report", run_dir, "-f", "json"))
    cell = next(c for c in report["cells"] if c["kind"] == "attack")
    assert cell["backend"].startswith("pyautoattack ")
    samples = pd.read_json(io.StringIO(_cli("report", run_dir, "-f", "jsonl")), lines=True)
    mine = samples[samples["cell"] == cell["key"]].set_index("index")

    host = PluginHost(entry_points=False)
    spec = host.registries.models.get("fm-resnet")
    dataset = host.registries.datasets.get("fashion-mnist")
    imageset = dataset.loader(None, Preprocessing.for_model(spec))
    position = {sample_id: i for i, sample_id in enumerate(imageset.ids)}
    model, _ = build_classifier(spec)
    assert len(cell["units"]) == 2
    assert 0 < mine["correct"].sum() < mine["attacked"].sum()  # some samples hold, some break
    for unit in cell["units"]:
        rows = mine.loc[unit["start"] : unit["stop"] - 1]
        x = imageset.load([position[s] for s in rows["sample_id"]])
        y = torch.tensor(rows["label"].to_numpy())
        adversary = pyautoattack.AutoAttack(
            model,
            norm="Linf",
            eps=cell["eps"],
            version="custom",
            attacks=["apgd-ce", "apgd-t"],
            device="cpu",
            seed=unit["seed"],
        )
        for apgd in (adversary.apgd, adversary.apgd_targeted):  # iterations=5, as the threat id records
            apgd.n_iter = apgd.n_iter_orig = 5
            apgd.n_iter_2, apgd.n_iter_min, apgd.size_decr = 1, 1, 1
        x_adv, _ = adversary.run_standard_evaluation(x, y, batch_size=unit["batch_size"])
        with torch.no_grad():
            robust = (model(x_adv).argmax(1) == y).numpy()
        np.testing.assert_array_equal(robust, rows["correct"].to_numpy().astype(bool))

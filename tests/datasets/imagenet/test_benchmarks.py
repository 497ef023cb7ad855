"""Every benchmark loads from its fake tree and scores a known case to the hand-computed value."""

from __future__ import annotations

import numpy as np
import pytest

from lkadv.metrics._corruption import ALEXNET_ERRORS
from lkadv.store import Ledger
from tests.datasets.imagenet.helpers import figures, run_oracle


def test_imagenet_val_top1(data_root, oracle_host, tmp_path):
    result = run_oracle("imagenet", {"imagenet": data_root / "imagenet"}, tmp_path, oracle_host)
    assert len(result.plan.subset) == 1000
    assert result.plan.subset.ids[0] == "val/n01440764/img_00000.JPEG"
    assert figures(result, oracle_host)["oracle"] == {"top-1 %": pytest.approx(90.0)}  # 100 of 1000 shown wrong


@pytest.mark.parametrize(
    ("dataset", "expected"),
    [("imagenet-sketch", 100.0), ("imagenet-v2", 100.0), ("stylized-imagenet", 100.0)],
)
def test_companion_sets_top1(data_root, oracle_host, tmp_path, dataset, expected):
    result = run_oracle(dataset, {dataset: data_root / dataset}, tmp_path, oracle_host)
    assert len(result.plan.subset) == 1000
    assert figures(result, oracle_host)["oracle"]["top-1 %"] == pytest.approx(expected)


def test_imagenet_a_masked_top1(data_root, oracle_host, tmp_path):
    result = run_oracle("imagenet-a", {"imagenet-a": data_root / "imagenet-a"}, tmp_path, oracle_host)
    # 50 of 200 wrong; the images shown as class-1 are wrong over 1000 classes but right under the mask.
    assert figures(result, oracle_host)["oracle"] == {"top-1 (200-class) %": pytest.approx(75.0)}
    with Ledger(result.run_dir) as ledger:
        out = ledger.outcomes(result.plan.cells[0].key)
    assert out.pred.max() < 200  # predictions live in the 200-class space


def test_imagenet_r_masked_top1(data_root, oracle_host, tmp_path):
    result = run_oracle("imagenet-r", {"imagenet-r": data_root / "imagenet-r"}, tmp_path, oracle_host)
    assert figures(result, oracle_host)["oracle"]["top-1 (200-class) %"] == pytest.approx(90.0)


def test_imagenet_c_errors_and_ce(data_root, oracle_host, tmp_path):
    result = run_oracle("imagenet-c", {"imagenet-c": data_root / "imagenet-c"}, tmp_path, oracle_host)
    fig = figures(result, oracle_host)["oracle"]
    # severity s shows 200 * (s - 1) of 1000 classes wrong: errors 0, .2, .4, .6, .8 -> mean 0.4
    assert fig["mean error %"] == pytest.approx(40.0)
    assert np.isnan(fig["mCE %"])  # one corruption of the 15: no mCE
    section = result.summary.sections[0]
    assert section.key == "benchmark:imagenet-c"
    row = dict(zip(section.columns, section.rows[0], strict=True))
    assert row["gaussian_noise CE %"] == pytest.approx(100 * 0.4 / ALEXNET_ERRORS["gaussian_noise"], abs=1e-3)


def test_imagenet_o_aupr(data_root, o_val_root, oracle_host, tmp_path):
    roots = {"imagenet-o": data_root / "imagenet-o", "imagenet": o_val_root}
    result = run_oracle("imagenet-o", roots, tmp_path, oracle_host)
    info = result.plan.data_info
    assert info["imagenet_o"] == 4 and info["imagenet_val"] == 200
    # -max softmax ranks the two confidence-0 ImageNet-O images first, then the 200 val images
    # (confidence 10), then the ImageNet-O images of confidence 14 and 16.
    expected = 0.25 * (1 + 1 + 3 / 203 + 4 / 204)
    assert figures(result, oracle_host)["oracle"]["AUPR %"] == pytest.approx(100 * expected, abs=1e-6)


def test_imagenet_p_flip_probability_and_top5_distance(data_root, oracle_host, tmp_path):
    result = run_oracle("imagenet-p", {"imagenet-p": data_root / "imagenet-p"}, tmp_path, oracle_host)
    assert result.plan.data_info["videos"] == 3 and len(result.plan.subset) == 15
    section = dict(zip(result.summary.sections[0].columns, result.summary.sections[0].rows[0], strict=True))
    # gaussian_noise [5,5,6,5,6] vs frame 0: 2 flips of 4; top-5 distance 0, 9, 0, 9 -> 4.5
    assert section["FP:gaussian_noise"] == pytest.approx(50.0)
    assert section["T5D:gaussian_noise"] == pytest.approx(4.5)
    # tilt: [5,5,6,5,5] consecutive: flips 0,1,1,0 (0.5), distances 0,9,5,0 (3.5); [7]*5: 0 -> means 0.25, 1.75
    assert section["FP:tilt"] == pytest.approx(25.0)
    assert section["T5D:tilt"] == pytest.approx(1.75)
    assert figures(result, oracle_host)["oracle"] == {"mFP %": pytest.approx(37.5), "mT5D": pytest.approx(3.125)}


def test_imagenet_9_bg_gap(data_root, oracle_host, tmp_path):
    result = run_oracle("imagenet-9", {"imagenet-9": data_root / "imagenet-9"}, tmp_path, oracle_host)
    fig = figures(result, oracle_host)["oracle"]
    assert fig["Original %"] == pytest.approx(100.0)
    assert fig["Mixed-Same %"] == pytest.approx(100 * 6 / 9)
    assert fig["Mixed-Rand %"] == pytest.approx(100 * 3 / 9)
    assert fig["BG-Gap %"] == pytest.approx(100 * 3 / 9)
    with Ledger(result.run_dir) as ledger:
        pred = ledger.outcomes(result.plan.cells[0].key).pred
    assert set(pred.tolist()) <= set(range(10)) and 9 in pred  # class 500 maps to "none of the nine"


def test_benchmarks_table_across_runs(data_root, oracle_host, tmp_path):
    from click.testing import CliRunner

    from lkadv.cli import main

    run_oracle("imagenet-9", {"imagenet-9": data_root / "imagenet-9"}, tmp_path, oracle_host)
    run_oracle("imagenet-r", {"imagenet-r": data_root / "imagenet-r"}, tmp_path, oracle_host)
    out = CliRunner().invoke(
        main,
        ["-p", "tests.datasets.imagenet.fakes_plugin", "report", str(tmp_path / "run"), "--benchmarks", "-f", "json"],
    )
    assert out.exit_code == 0, out.output
    import json

    table = json.loads(out.output)
    row = dict(zip(table["columns"], table["rows"][0], strict=True))
    assert row["model"] == "oracle"
    assert row["imagenet-9 BG-Gap %"] == pytest.approx(33.33, abs=0.01)
    assert row["imagenet-r top-1 (200-class) %"] == pytest.approx(90.0)

"""Each kind of bad layout gives a clear error naming the expected layout and the setting to change."""

from __future__ import annotations

import shutil

import pytest

from lkadv.errors import DataError
from tests.datasets.imagenet import fakes
from tests.datasets.imagenet.helpers import run_oracle


@pytest.fixture
def a_tree(tmp_path):
    return fakes.subset_tree(tmp_path / "imagenet-a", "a")


def _expect(match, dataset, root, host, tmp_path, **kw):
    with pytest.raises(DataError, match=match) as info:
        run_oracle(dataset, {dataset: root}, tmp_path, host, **kw)
    text = str(info.value)
    assert "Expected layout" in text or "--on-bad-image" in text
    return text


def test_wrong_root(oracle_host, tmp_path):
    (tmp_path / "datasets" / "train").mkdir(parents=True)
    text = _expect("neither a val/ folder nor class folders", "imagenet", tmp_path / "datasets", oracle_host, tmp_path)
    assert "LKADV_DATA_IMAGENET" in text and "val/<wnid>" in text


def test_root_of_another_dataset(a_tree, oracle_host, tmp_path):
    _expect("800 class folder", "imagenet", a_tree, oracle_host, tmp_path)


def test_root_is_a_class_folder(a_tree, oracle_host, tmp_path):
    _expect("no class folders", "imagenet-a", a_tree / fakes.A_SYNSETS[0], oracle_host, tmp_path)


def test_missing_class_folder(a_tree, oracle_host, tmp_path):
    shutil.rmtree(a_tree / fakes.A_SYNSETS[3])
    text = _expect("1 class folder", "imagenet-a", a_tree, oracle_host, tmp_path)
    assert fakes.A_SYNSETS[3] in text and "LKADV_DATA_IMAGENET_A" in text


def test_empty_class_folder(a_tree, oracle_host, tmp_path):
    for f in (a_tree / fakes.A_SYNSETS[7]).iterdir():
        f.unlink()
    _expect(f"{fakes.A_SYNSETS[7]} holds no", "imagenet-a", a_tree, oracle_host, tmp_path)


def test_unknown_folder_in_imagenet_c(tmp_path, oracle_host):
    (tmp_path / "c" / "fogg" / "1").mkdir(parents=True)
    _expect("unknown corruption folder", "imagenet-c", tmp_path / "c", oracle_host, tmp_path)


def test_imagenet_c_missing_severity(tmp_path, oracle_host):
    fakes.class_tree(tmp_path / "c" / "fog" / "1", fakes.SYNSETS, range(1000))
    _expect("severity folders 1 to 5", "imagenet-c", tmp_path / "c", oracle_host, tmp_path)


def test_imagenet_9_missing_variant(tmp_path, oracle_host):
    root = fakes.imagenet_9(tmp_path / "in9")
    shutil.rmtree(root / "mixed_rand")
    _expect("mixed_rand/val", "imagenet-9", root, oracle_host, tmp_path)


def test_imagenet_o_needs_imagenet_val(tmp_path, oracle_host):
    root = fakes.imagenet_o(tmp_path / "o")
    with pytest.raises(DataError, match="'imagenet-o' also reads dataset 'imagenet'") as info:
        run_oracle("imagenet-o", {"imagenet-o": root}, tmp_path, oracle_host)
    assert "LKADV_DATA_IMAGENET" in str(info.value) and "val/<wnid>" in str(info.value)


def test_corrupt_image_fails_or_is_skipped_and_counted(a_tree, oracle_host, tmp_path):
    bad = a_tree / fakes.A_SYNSETS[2] / "img_00000.jpg"
    bad.write_bytes(b"\xff\xd8 this is not a jpeg")
    text = _expect("cannot be decoded", "imagenet-a", a_tree, oracle_host, tmp_path / "f")
    assert bad.name in text and "--on-bad-image skip" in text
    assert not list((tmp_path / "f" / "cache").rglob("data.u8"))  # nothing half-written
    result = run_oracle("imagenet-a", {"imagenet-a": a_tree}, tmp_path / "s", oracle_host, on_bad_image="skip")
    assert result.plan.data_info["bad_images"] == 1
    assert len(result.plan.subset) == 199 and "less 1 unreadable" in result.plan.subset.rule
    assert any("1 unreadable image" in n for n in result.summary.notes)
    assert result.summary.cells[0].accuracy.value == 1.0


def test_corrupt_image_skipped_without_cache(a_tree, oracle_host, tmp_path):
    (a_tree / fakes.A_SYNSETS[2] / "img_00000.jpg").write_bytes(b"garbage")
    result = run_oracle(
        "imagenet-a", {"imagenet-a": a_tree}, tmp_path, oracle_host, on_bad_image="skip", cache_dir="off"
    )
    assert result.plan.data_info["bad_images"] == 1 and len(result.plan.subset) == 199
    with pytest.raises(DataError, match="cannot decode"):
        run_oracle("imagenet-a", {"imagenet-a": a_tree}, tmp_path / "b", oracle_host, cache_dir="off")

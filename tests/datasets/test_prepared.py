"""The prepared-data cache: decode once, reuse, never reuse stale data, survive a kill mid-write."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from lkadv.datasets._files import FileImageSet, FileSamples
from lkadv.datasets._prepared import prepare_imagesets
from lkadv.specs import Preprocessing
from tests.datasets.imagenet import fakes

PRE16 = Preprocessing((3, 16, 16), "bilinear", 1.0, "center")
PRE8 = Preprocessing((3, 8, 8), "bicubic", 0.875, "center")


def _tree(root: Path, n: int) -> FileSamples:
    paths = []
    for i in range(n):
        rel = f"c{i % 10}/img_{i:05d}.jpg"
        fakes.write(root / rel, fakes.jpeg(i % 1000))
        paths.append(rel)
    return FileSamples.of_images(root, paths, [i % 10 for i in range(n)])


def _sets(samples: FileSamples, *pres: Preprocessing) -> list[FileImageSet]:
    return [FileImageSet(samples, p, dataset="toy", version="1") for p in pres]


def test_one_pass_fills_every_preprocessing_and_is_reused(tmp_path, monkeypatch):
    samples = _tree(tmp_path / "data", 40)
    positions = list(range(0, 40, 2))
    sets = _sets(samples, PRE16, PRE8)
    report = prepare_imagesets(sets, positions, "d1", tmp_path / "cache")
    assert all(v.startswith("written") for v in report.entries.values()) and len(report.entries) == 2
    direct = FileImageSet(samples, PRE16, dataset="toy", version="1").load_uint8(positions[:5])
    assert np.array_equal(sets[0].load_uint8(positions[:5]).numpy(), direct.numpy())
    assert sets[1].load_uint8([positions[3]]).shape == (1, 3, 8, 8)

    def no_decoding(*args, **kwargs):
        raise AssertionError("decoded although the cache holds the data")

    monkeypatch.setattr("lkadv.datasets._files.decode_source", no_decoding)
    again = _sets(samples, PRE16, PRE8)
    report = prepare_imagesets(again, positions, "d1", tmp_path / "cache")
    assert all(v.startswith("reused") for v in report.entries.values())
    assert np.array_equal(again[0].load_uint8(positions).numpy(), sets[0].load_uint8(positions).numpy())


def test_changed_source_subset_or_transform_is_never_reused(tmp_path):
    samples = _tree(tmp_path / "data", 20)
    positions = list(range(20))
    prepare_imagesets(_sets(samples, PRE16), positions, "d1", tmp_path / "cache")
    entries = lambda: sorted(p.name for p in (tmp_path / "cache" / "toy").iterdir())  # noqa: E731
    assert len(entries()) == 1
    target = tmp_path / "data" / samples.sources[3]
    target.write_bytes(fakes.jpeg(999))
    os.utime(target, ns=(time.time_ns(), time.time_ns() + 10**9))
    sets = _sets(samples, PRE16)
    report = prepare_imagesets(sets, positions, "d1", tmp_path / "cache")
    assert next(iter(report.entries.values())).startswith("written") and len(entries()) == 2
    assert sets[0].load_uint8([3]).float().mean((0, 2, 3))[0].item() == pytest.approx(fakes.colour(999)[0], abs=3)
    prepare_imagesets(_sets(samples, PRE16), positions[:10], "d2", tmp_path / "cache")
    prepare_imagesets(_sets(samples, PRE8), positions, "d1", tmp_path / "cache")
    assert len(entries()) == 4


def test_tampered_entry_is_rejected_and_rebuilt(tmp_path):
    samples = _tree(tmp_path / "data", 10)
    prepare_imagesets(_sets(samples, PRE16), list(range(10)), "d1", tmp_path / "cache")
    (entry,) = (tmp_path / "cache" / "toy").iterdir()
    with open(entry / "data.u8", "r+b") as fh:
        fh.truncate(100)
    report = prepare_imagesets(_sets(samples, PRE16), list(range(10)), "d1", tmp_path / "cache")
    assert next(iter(report.entries.values())).startswith("written")
    assert (entry / "data.u8").stat().st_size == 10 * 3 * 16 * 16


_CHILD = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    import lkadv.datasets._files as files
    from lkadv.datasets._files import FileImageSet, FileSamples
    from lkadv.datasets._prepared import prepare_imagesets
    from lkadv.specs import Preprocessing

    root, cache, n = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3])
    real = files.decode_source

    def slow(*args, **kwargs):  # widen the window in which the parent kills us
        time.sleep(0.005)
        return real(*args, **kwargs)

    files.decode_source = slow
    paths = [f"c{i % 10}/img_{i:05d}.jpg" for i in range(n)]
    samples = FileSamples.of_images(root, paths, [i % 10 for i in range(n)])
    pre = Preprocessing((3, 32, 32), "bicubic", 0.875, "center")
    imageset = FileImageSet(samples, pre, dataset="toy", version="1")
    prepare_imagesets([imageset], list(range(n)), "digest", cache)
    print("finished")
    """
)


def test_kill_during_preparation_leaves_no_finished_looking_cache(tmp_path):
    n = 400
    _tree(tmp_path / "data", n)
    cache = tmp_path / "cache"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(Path.cwd() / "src"), str(Path.cwd())])}
    child = subprocess.Popen(
        [sys.executable, "-c", _CHILD, str(tmp_path / "data"), str(cache), str(n)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 300  # the child imports torch first, which is slow on a loaded machine
    try:
        while time.monotonic() < deadline:
            tmp = list((cache / "toy").glob(".tmp-*/data.u8")) if (cache / "toy").is_dir() else []
            if tmp:
                break
            assert child.poll() is None, child.communicate()
            time.sleep(0.005)
        else:
            pytest.fail("preparation never started")
        child.send_signal(signal.SIGKILL)
        child.wait(10)
    finally:
        if child.poll() is None:
            child.kill()
    assert child.returncode == -signal.SIGKILL
    left = list((cache / "toy").iterdir())
    assert left and all(p.name.startswith(".tmp-") for p in left)  # only the temporary folder: no entry
    paths = [f"c{i % 10}/img_{i:05d}.jpg" for i in range(n)]
    samples = FileSamples.of_images(tmp_path / "data", paths, [i % 10 for i in range(n)])
    pre = Preprocessing((3, 32, 32), "bicubic", 0.875, "center")
    imageset = FileImageSet(samples, pre, dataset="toy", version="1")
    report = prepare_imagesets([imageset], list(range(n)), "digest", cache)
    assert next(iter(report.entries.values())).startswith("written")  # rebuilt, never mistaken for finished
    assert [p.name for p in (cache / "toy").iterdir() if p.name.startswith(".tmp-")] == []  # stale tmp removed
    fresh = FileImageSet(samples, pre, dataset="toy", version="1")
    assert np.array_equal(imageset.load_uint8([0, n - 1]).numpy(), fresh.load_uint8([0, n - 1]).numpy())

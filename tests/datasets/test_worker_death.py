"""A decoding worker dies with its parent, even when the parent is killed outright."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

PARENT = """
import multiprocessing, os, sys, time
from lkadv.datasets._files import _die_with_parent

def worker(parent, out):
    _die_with_parent(parent, 0)  # what each DataLoader decoding worker runs first
    with open(out, "w") as f:
        f.write(str(os.getpid()))
    while True:
        time.sleep(1)

if __name__ == "__main__":
    ctx = multiprocessing.get_context("fork")
    p = ctx.Process(target=worker, args=(os.getpid(), sys.argv[1]))
    p.start()
    p.join()
"""


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split()[2]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="prctl(PR_SET_PDEATHSIG) is Linux only")
def test_a_worker_does_not_outlive_its_killed_parent(tmp_path: Path) -> None:
    script, marker = tmp_path / "parent.py", tmp_path / "worker.pid"
    script.write_text(PARENT)
    parent = subprocess.Popen([sys.executable, str(script), str(marker)])
    while not marker.exists() or not marker.read_text():  # an event: the worker is up
        assert parent.poll() is None
        time.sleep(0.02)
    worker = int(marker.read_text())
    assert _alive(worker)
    os.kill(parent.pid, signal.SIGKILL)
    parent.wait()
    for _ in range(500):  # the kernel signals it at once; this only bounds a broken build
        if not _alive(worker):
            break
        time.sleep(0.02)
    assert not _alive(worker), "the decoding worker outlived its parent"

"""One gradient step of a batch, split across CPU lanes.

On CPU a forward plus input-gradient pass keeps all cores busy only inside
large kernels: between them, the Python of the model, small element-wise ops
and the autograd engine run on one thread. Splitting the batch into *lanes*,
each run on its own thread with ``torch threads / lanes`` intra-op threads,
overlaps those serial parts: on 2 cores the mini zoo's PGD step was 1.1-1.3x
faster at batch 250 (``bench/pgd_throughput.py``). On CPU, autograd runs a
backward pass on the thread that asks for it, so the lanes' backward passes
overlap too.

Each sample's logits, loss and gradient do not depend on which lane computed
them, up to the float rounding of batch-size-dependent kernels; the split
itself is a fixed function of the batch size and thread count, so a run
repeats exactly. GPUs (one stream already keeps the device busy) and batches
too small to share (fewer than :data:`MIN_LANE_ROWS` samples per lane) and
forked child processes take a single pass. :attr:`EngineOptions.cpu_lanes` (``LKADV_CPU_LANES``)
sets the lane count (``1`` turns lanes off).
"""

from __future__ import annotations

import itertools
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import torch
from torch import nn

from lkadv.engine._options import engine_options
from lkadv.engine._trace import note_lanes

__all__ = ["MIN_LANE_ROWS", "input_gradient", "lane_count"]

MIN_LANE_ROWS = 16

Objective = Callable[[torch.Tensor, slice], torch.Tensor]

_pools: dict[tuple[int, int, int], ThreadPoolExecutor] = {}  # (pid, lanes, threads): a forked child starts afresh
_pools_lock = threading.Lock()
_forked = False


def _mark_forked() -> None:
    global _forked
    _forked = True


# A child forked from a process that ran threads (a DataLoader worker, a fork pool)
# inherits locks and OpenMP state held by threads that no longer exist: starting
# new compute threads there can crash (seen as a segfault in a lane's forward
# pass). Such a child computes on its own thread only.
os.register_at_fork(after_in_child=_mark_forked)


def lane_count(rows: int, device: torch.device) -> int:
    """How many lanes a batch of ``rows`` samples on ``device`` is split into (see :func:`use_engine`)."""
    if device.type != "cpu":
        return 1
    lanes = engine_options().cpu_lanes or torch.get_num_threads()
    if _forked:
        return 1
    return max(1, min(lanes, rows // MIN_LANE_ROWS))


def _pool(lanes: int, threads: int) -> ThreadPoolExecutor:
    """Worker threads whose intra-op thread count is ``threads`` (the caller's is left as it was)."""
    with _pools_lock:
        key = (os.getpid(), lanes, threads)
        pool = _pools.get(key)
        if pool is not None:
            return pool
        caller = torch.get_num_threads()
        ready = threading.Barrier(lanes)

        def init() -> None:
            # Read first: torch sets a thread's count lazily from the process-wide value on
            # its first parallel op, which would undo a set_num_threads made before it.
            torch.get_num_threads()
            torch.set_num_threads(threads)
            ready.wait()

        pool = ThreadPoolExecutor(lanes, thread_name_prefix="lkadv-lane", initializer=init)
        for f in [pool.submit(lambda: None) for _ in range(lanes)]:
            f.result()
        torch.set_num_threads(caller)  # set_num_threads also changed the process-wide default
        _pools[key] = pool
        return pool


def _pass(
    model: nn.Module, x: torch.Tensor, objective: Objective, rows: slice
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    with torch.enable_grad():
        xr = x[rows].detach().requires_grad_(True)
        logits = model(xr)
        loss = objective(logits, rows)
        grad = torch.autograd.grad(loss.sum(), xr)[0]
    return logits.detach(), loss.detach(), grad


def input_gradient(
    model: nn.Module, x: torch.Tensor, objective: Objective
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Logits, per-sample objective and its gradient with respect to ``x``.

    Args:
        model: The model to differentiate.
        x: The batch.
        objective: ``(logits, rows) -> per-sample loss`` of the samples ``x[rows]``.

    Returns:
        ``(logits, loss, grad)``, detached, in batch order.
    """
    n = len(x)
    lanes = lane_count(n, x.device)
    note_lanes(lanes)
    if lanes == 1:
        return _pass(model, x, objective, slice(0, n))
    bounds = [n * i // lanes for i in range(lanes + 1)]
    rows = [slice(a, b) for a, b in itertools.pairwise(bounds)]
    pool = _pool(lanes, max(1, torch.get_num_threads() // lanes))
    parts = [f.result() for f in [pool.submit(_pass, model, x, objective, r) for r in rows]]
    return (
        torch.cat([p[0] for p in parts]),
        torch.cat([p[1] for p in parts]),
        torch.cat([p[2] for p in parts]),
    )

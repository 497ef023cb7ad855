"""CPU lanes: a batch's gradient step split across threads gives the single-pass result."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from lkadv.engine import MIN_LANE_ROWS, EngineOptions, input_gradient, lane_count, use_engine
from lkadv.engine._lanes import _pool
from lkadv.models import Classifier


def _classifier() -> Classifier:
    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 8 * 8, 5))
    return Classifier(net, mean=[0.5], std=[0.25], num_classes=5)


def test_lane_count_policy(monkeypatch):
    with use_engine(EngineOptions(cpu_lanes=3)):
        assert lane_count(3 * MIN_LANE_ROWS, torch.device("cpu")) == 3
        assert lane_count(3 * MIN_LANE_ROWS - 1, torch.device("cpu")) == 2  # every lane gets enough rows
        assert lane_count(MIN_LANE_ROWS - 1, torch.device("cpu")) == 1
        assert lane_count(10_000, torch.device("cuda")) == 1
    with use_engine(EngineOptions(cpu_lanes=1)):
        assert lane_count(10_000, torch.device("cpu")) == 1
    assert lane_count(10_000, torch.device("cpu")) == torch.get_num_threads()
    monkeypatch.setenv("LKADV_CPU_LANES", "1")  # the engine reads no environment: only its options count
    assert lane_count(10_000, torch.device("cpu")) == torch.get_num_threads()
    with pytest.raises(ValueError, match="cpu_lanes must be a positive whole number"):
        EngineOptions(cpu_lanes=0)


@pytest.mark.parametrize("lanes", [2, 3])
def test_lanes_give_the_single_pass_result_in_batch_order(monkeypatch, lanes):
    clf = _classifier()
    n = 5 * MIN_LANE_ROWS + 3  # uneven split
    g = torch.Generator().manual_seed(1)
    x = torch.rand(n, 1, 8, 8, generator=g)
    y = torch.randint(0, 5, (n,), generator=g)

    def objective(logits: torch.Tensor, rows: slice) -> torch.Tensor:
        return F.cross_entropy(logits, y[rows], reduction="none")  # wrong rows would change every value

    with use_engine(EngineOptions(cpu_lanes=1)):
        ref = input_gradient(clf, x, objective)
    threads = torch.get_num_threads()
    clf.grad_stats.reset()
    with use_engine(EngineOptions(cpu_lanes=lanes)):
        got = input_gradient(clf, x, objective)
    assert clf.grad_stats.rows == n  # counted once per sample, from every lane
    assert torch.get_num_threads() == threads  # the caller's setting survives the lane pool
    for a, b in zip(got, ref, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)
    assert not any(t.requires_grad for t in got)


def test_lane_threads_use_their_share_of_the_cores():
    pool = _pool(2, 1)
    assert {pool.submit(torch.get_num_threads).result() for _ in range(4)} == {1}


def test_an_error_in_a_lane_reaches_the_caller():
    x = torch.rand(2 * MIN_LANE_ROWS, 1, 8, 8)

    def objective(logits: torch.Tensor, rows: slice) -> torch.Tensor:
        raise ValueError("bad objective")

    with pytest.raises(ValueError, match="bad objective"), use_engine(EngineOptions(cpu_lanes=2)):
        input_gradient(_classifier(), x, objective)


@pytest.mark.skipif(not hasattr(__import__("os"), "fork"), reason="needs fork")
def test_a_forked_child_computes_on_one_lane_and_gets_the_same_gradient():
    import multiprocessing

    with use_engine(EngineOptions(cpu_lanes=2)):
        clf = _classifier()
        x = torch.rand(2 * MIN_LANE_ROWS, 1, 8, 8)
        y = torch.zeros(len(x), dtype=torch.long)

        def objective(logits: torch.Tensor, rows: slice) -> torch.Tensor:
            return F.cross_entropy(logits, y[rows], reduction="none")

        input_gradient(clf, x, objective)  # the parent's pool exists; its threads do not survive a fork
        ctx = multiprocessing.get_context("fork")
        with ctx.Pool(1) as pool:
            result = pool.apply_async(_child_step, (clf, x, y))
            lanes, grad = result.get(timeout=60)
        assert lanes == 1  # no compute threads in a child forked from a threaded parent
        assert lane_count(len(x), torch.device("cpu")) == 2  # the parent keeps its lanes
        torch.testing.assert_close(grad, input_gradient(clf, x, objective)[2])


def _child_step(clf: Classifier, x: torch.Tensor, y: torch.Tensor) -> tuple[int, torch.Tensor]:
    # As DataLoader workers do: GNU OpenMP cannot start a thread team in a child forked
    # after the parent used one, whatever lkadv does.
    torch.set_num_threads(1)
    lanes = lane_count(len(x), torch.device("cpu"))
    return lanes, input_gradient(clf, x, lambda logits, rows: F.cross_entropy(logits, y[rows], reduction="none"))[2]

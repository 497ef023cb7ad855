"""Shape-bias arithmetic on hand-built decisions and probabilities."""

from __future__ import annotations

import math

import torch

from lkadv.analyses import group_probabilities, shape_bias


def test_agreeing_images_are_dropped_and_bias_is_shape_over_cue_decisions() -> None:
    shapes = [0, 0, 1, 1, 2, 2, 3]
    textures = [1, 2, 0, 3, 2, 0, 3]  # images 4 and 6 agree: dropped
    decisions = [0, 2, 0, 2, 2, 0, 3]  # shape, texture, texture, neither, -, texture, -
    out = shape_bias(decisions, shapes, textures)
    assert out["conflict"] == 5
    assert (out["shape"], out["texture"]) == (1, 3)
    assert math.isclose(out["shape_bias"], 1 / 4)


def test_categories_average_their_classes() -> None:
    probs = torch.tensor([[0.1, 0.3, 0.2, 0.4], [0.7, 0.1, 0.1, 0.1]])
    grouped = group_probabilities(probs, [[0, 1], [2], [3]])
    assert torch.allclose(grouped, torch.tensor([[0.2, 0.2, 0.4], [0.4, 0.1, 0.1]]))


def test_no_cue_decision_gives_nan() -> None:
    assert math.isnan(shape_bias([5], [0], [1])["shape_bias"])

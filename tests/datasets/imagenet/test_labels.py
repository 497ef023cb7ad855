"""Label spaces: timm's shipped masks, and ImageNet-9's grouping against the paper's table."""

from __future__ import annotations

from importlib import resources

import torch

from lkadv.datasets.imagenet import IN9_CLASSES, imagenet_synsets, in9_of_imagenet, subset_indices, subset_synsets
from lkadv.datasets.imagenet._labels import IN9_MEMBERS
from lkadv.datasets.imagenet._scoring import head_a, head_in9, head_r


def _timm_list(name):
    text = (resources.files("timm.data") / "_info" / name).read_text()
    return [line.strip() for line in text.split() if line.strip()]


def test_masks_equal_timms_index_lists():
    assert list(subset_indices("a")) == [int(v) for v in _timm_list("imagenet_a_indices.txt")]
    assert list(subset_indices("r")) == [int(v) for v in _timm_list("imagenet_r_indices.txt")]
    assert len(subset_indices("a")) == len(subset_indices("r")) == 200
    assert subset_indices("a") != subset_indices("r")


def test_masks_select_the_listed_synsets():
    syn = imagenet_synsets()
    for which in ("a", "r"):
        assert [syn[i] for i in subset_indices(which)] == list(subset_synsets(which))
    logits = torch.arange(1000.0)[None].repeat(2, 1)
    assert head_a(logits)[0].tolist() == [float(i) for i in subset_indices("a")]
    assert head_r(logits)[0].tolist() == [float(i) for i in subset_indices("r")]
    assert not torch.equal(head_a(logits), head_r(logits))


def test_in9_groups_match_the_papers_sub_class_counts():
    # Xiao et al. 2020, appendix A, Table 4
    assert [len(m) for m in IN9_MEMBERS] == [116, 52, 42, 36, 35, 27, 26, 20, 16]
    mapping = in9_of_imagenet()
    assert sum(1 for v in mapping if v >= 0) == 370
    assert len(IN9_CLASSES) == 9
    # dogs are dogs, not carnivores; a domestic cat is in neither; a wolf is a carnivore
    assert mapping[207] == 0 and mapping[281] == -1 and mapping[269] == 4
    assert mapping[0] == 8 and mapping[500] == -1


def test_in9_head_takes_the_1000_way_argmax_group():
    logits = torch.full((3, 1000), -5.0)
    logits[0, 207] = 3.0  # golden retriever -> dog
    logits[1, 500] = 3.0  # cliff dwelling -> none of the nine (column 9)
    logits[2, 389] = 3.0  # barracouta -> fish
    out = head_in9(logits)
    assert out.shape == (3, 10)
    assert out.argmax(1).tolist() == [0, 9, 8]
    x = logits.clone().requires_grad_(True)
    head_in9(x)[:, 0].sum().backward()  # attacks differentiate through it
    assert x.grad is not None and x.grad[0, 207] == 1.0

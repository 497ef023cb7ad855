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


# The published 1000 -> 9 mapping, in_to_in9.json of MadryLab/backgrounds_challenge
# (commit 46d224b), written as inclusive ranges of ImageNet-1k indices per IN-9
# class; every index not listed maps to -1 in that file.
_PUBLISHED_IN9 = {
    0: [(151, 170), (173, 268)],
    1: [(7, 24), (87, 100), (127, 146)],
    2: [
        *[(i, i) for i in (428, 436, 444, 468, 511, 547, 555, 561, 565, 569, 573, 586, 603, 609, 612, 627, 656)],
        *[(i, i) for i in (661, 665, 675, 690, 705, 717, 734, 751, 757, 791, 817, 820, 829, 847, 864, 870, 880)],
        (407, 408),
        (670, 671),
        (802, 803),
        (866, 867),
    ],
    3: [(33, 68)],
    4: [(269, 280), (286, 299), (356, 362), (387, 388)],
    5: [(300, 326)],
    6: [
        *[(i, i) for i in (420, 432, 486, 494, 513, 541, 546, 558, 566, 577, 579, 687, 699, 776, 822, 875, 881, 889)],
        (401, 402),
        (593, 594),
        (641, 642),
        (683, 684),
    ],
    7: [(365, 384)],
    8: [(0, 6), (389, 397)],
}


def test_in9_mapping_equals_the_published_file_class_by_class():
    published = [-1] * 1000
    for group, spans in _PUBLISHED_IN9.items():
        for a, b in spans:
            for i in range(a, b + 1):
                published[i] = group
    assert [published.count(g) for g in range(9)] == [116, 52, 42, 36, 35, 27, 26, 20, 16]
    mapping = in9_of_imagenet()
    differing = [(i, mapping[i], published[i]) for i in range(1000) if mapping[i] != published[i]]
    assert differing == []
    # the four classes an earlier WordNet-derived table got wrong
    assert mapping[586] == mapping[847] == 2  # half track, tank
    assert mapping[575] == mapping[660] == -1  # golfcart, mobile home


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

"""Fixed and grouped subsets."""

from __future__ import annotations

from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lkadv.errors import ConfigError
from lkadv.planner import balanced_subset, fixed_subset, named_subset


def _data(n_classes=10, per=30):
    ids = [f"c{c}/img{i}" for c in range(n_classes) for i in range(per)]
    labels = [c for c in range(n_classes) for _ in range(per)]
    return ids, labels


def test_fixed_subset_is_balanced_and_depends_on_ids_only():
    ids, labels = _data()
    sub = fixed_subset(ids, labels, 50)
    assert len(sub) == 50 and set(Counter(labels[p] for p in sub.positions).values()) == {5}
    shuffled = list(reversed(ids)), list(reversed(labels))
    again = fixed_subset(*shuffled, 50)
    assert set(again.ids) == set(sub.ids)  # the listing order does not matter, no seed involved
    more_ids = [*ids, "c3/extra"]
    more = fixed_subset(more_ids, [*labels, 3], 50)
    assert {i for i in more.ids if not i.startswith("c3/")} == {i for i in sub.ids if not i.startswith("c3/")}


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 8), st.integers(1, 9), st.integers(1, 60))
def test_fixed_subset_size_and_balance(n_classes, per, size):
    ids, labels = _data(n_classes, per)
    sub = fixed_subset(ids, labels, size)
    assert len(sub) == min(size, len(ids))
    counts = Counter(labels[p] for p in sub.positions)
    if len(sub) < len(ids):
        assert max(counts.values()) - min(counts.get(c, 0) for c in range(n_classes)) <= 1
    assert list(sub.positions) == sorted(sub.positions)


def test_named_subsets(tmp_path):
    ids, labels = _data(10, 600)
    assert len(named_subset("fixed-5k", ids, labels)) == 5000
    assert len(named_subset("fixed-100", ids, labels)) == 100
    listing = tmp_path / "ids.txt"
    listing.write_text("c1/img3 1\nc0/img0 0\n")
    sub = named_subset(f"file:{listing}", ids, labels)
    assert sub.ids == ("c0/img0", "c1/img3")
    listing.write_text("nope/x\n")
    with pytest.raises(ConfigError, match="not in the dataset"):
        named_subset(f"file:{listing}", ids, labels)
    with pytest.raises(ConfigError, match="unknown subset"):
        named_subset("robustbench", ids, labels)


def test_groups_are_drawn_whole():
    ids = [f"v{v}#{f}" for v in range(12) for f in range(5)]
    labels = [v % 3 for v in range(12) for _ in range(5)]
    groups = [i.split("#")[0] for i in ids]
    for sub in (balanced_subset(ids, labels, 6, 0, groups=groups), fixed_subset(ids, labels, 6, groups=groups)):
        assert len(sub) == 30
        chosen = Counter(i.split("#")[0] for i in sub.ids)
        assert len(chosen) == 6 and set(chosen.values()) == {5}
        assert Counter(int(v[1:]) % 3 for v in chosen) == {0: 2, 1: 2, 2: 2}


def test_without_records_the_reason():
    ids, labels = _data(2, 3)
    sub = balanced_subset(ids, labels, None, 0).without([1], "unreadable")
    assert len(sub) == 5 and "less 1 unreadable" in sub.rule and ids[1] not in sub.ids


def test_subset_file_takes_whole_lines_as_ids(tmp_path):
    from lkadv.planner._subsets import named_subset

    ids = ["mixed_rand/val/00_dog/a b.JPEG", "mixed_rand/val/00_dog/c.JPEG", "x"]
    f = tmp_path / "s.txt"
    f.write_text("mixed_rand/val/00_dog/a b.JPEG\nx 3\n")
    sub = named_subset(f"file:{f}", ids, [0, 0, 1])
    assert sub.ids == ("mixed_rand/val/00_dog/a b.JPEG", "x")

"""Session-wide fake trees of every benchmark, under conventional folder names (a fake LKADV_DATA_ROOT)."""

from __future__ import annotations

from pathlib import Path

import pytest

from lkadv.plugins import PluginHost
from tests.datasets.imagenet import fakes

# gaussian_noise: every frame compared with the first; tilt: consecutive frames.
P_SEQUENCES = {
    "gaussian_noise": {fakes.SYNSETS[5]: [5, 5, 6, 5, 6]},
    "tilt": {fakes.SYNSETS[5]: [5, 5, 6, 5, 5], fakes.SYNSETS[7]: [7, 7, 7, 7, 7]},
}


def a_shown() -> dict[int, int]:
    """ImageNet-A folders 0-49 show class+1 (wrong); folders 50-99 whose class-1 is not an A class show
    class-1, wrong for 1000 classes but right under the 200-class mask (the next class ranked is the label)."""
    a_idx = [fakes.SYNSETS.index(s) for s in fakes.A_SYNSETS]
    shown = {i: a_idx[i] + 1 for i in range(50)}
    for i in range(50, 100):
        if a_idx[i] - 1 not in set(a_idx):
            shown[i] = a_idx[i] - 1
    return shown


@pytest.fixture(scope="session")
def data_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("imagenet-data")
    fakes.imagenet_val(root / "imagenet", wrong=range(100))
    fakes.imagenet_c(root / "imagenet-c")
    fakes.subset_tree(root / "imagenet-a", "a", shown=a_shown())
    fakes.subset_tree(root / "imagenet-r", "r", wrong=range(20))
    fakes.imagenet_o(root / "imagenet-o")
    fakes.imagenet_p(root / "imagenet-p", P_SEQUENCES)
    fakes.imagenet_9(root / "imagenet-9")
    fakes.sketch(root / "imagenet-sketch")
    fakes.v2(root / "imagenet-v2")
    fakes.imagenet_val(root / "stylized-imagenet")
    return root


@pytest.fixture(scope="session")
def o_val_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An ImageNet val tree whose images all have confidence 10 (for ImageNet-O's AUPR case)."""
    root = tmp_path_factory.mktemp("o-val")
    return fakes.imagenet_val(root, q=10)


@pytest.fixture(scope="session")
def oracle_host() -> PluginHost:
    return PluginHost(entry_points=False, extra=[("oracle", fakes.OraclePlugin())])

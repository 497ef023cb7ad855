"""Built-in plugin: the embedded Fashion-MNIST benchmark."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from lkadv.plugins import hookimpl
from lkadv.registries import Registry
from lkadv.specs import DatasetSpec, Preprocessing

__all__ = ["lkadv_register_datasets", "load_fashion_mnist"]


def load_fashion_mnist(root: Path | None, preprocessing: Preprocessing) -> Any:
    """The 10k test split as an ImageSet: from ``root`` when one is set, else the shipped files."""
    from lkadv.datasets._arrays import ArrayImageSet
    from lkadv.datasets._fashion_mnist import load_fashion_mnist

    images, labels = load_fashion_mnist("test", root=root)
    ids = [f"t10k/{i:05d}" for i in range(len(labels))]
    source = str(root) if root is not None else "shipped"
    return ArrayImageSet(images, labels, ids, preprocessing, {"split": "test", "source": source})


@hookimpl
def lkadv_register_datasets(registry: Registry[DatasetSpec]) -> None:
    """Register Fashion-MNIST and the cue-conflict images of the shape-bias analysis."""
    registry.register(
        DatasetSpec(
            name="fashion-mnist",
            label_space="fashion-mnist",
            num_classes=10,
            loader=load_fashion_mnist,
            shipped=True,
            layout="shipped with lkadv (t10k IDX files)",
            # 500 keeps the main job (7 models x PGD-10 x 4 eps) within two minutes on 2 CPU cores;
            # 95% interval of an accuracy near 50%: +-4.4 points (--limit 0 for all 10,000).
            default_limit=500,
            default_eps={
                "linf": (1 / 255, 2 / 255, 4 / 255, 8 / 255),
                "l2": (0.25, 0.5, 1.0),
                "l1": (2.0, 5.0, 10.0),
                "l0": (1.0, 3.0, 5.0),  # pixels (one-pixel attack: Su et al. use 1, 3 and 5)
            },
            default_batch_size=500,
            mce_baseline="fm-resnet",
            description="Fashion-MNIST test split (10,000 28x28 grey images, 10 classes), shipped",
        )
    )
    registry.register(
        DatasetSpec(
            name="cue-conflict",
            label_space="cue-conflict-16",
            num_classes=16,
            loader="lkadv.datasets._cue_conflict:load_cue_conflict",
            accepts=("imagenet-1k", "cue-conflict-16"),
            root_folder="cue-conflict",
            layout="<category>/<shape><i>-<texture><j>.png (16 folders) and categories.json (classes per category)",
            description="Cue-conflict images (shape of one category, texture of another) for the shape-bias analysis",
        )
    )

"""Time per model with the prepared-data cache over time per model without it, side by side.

Builds a fake ImageNet val tree (1000 real wnid folders, 2 JPEGs of 224 x 224
each, textured so that decoding costs what it does on photos) in a temporary
folder, then runs a matrix of three models that share one preprocessing, one
`run` per model as a user adding models over time would:

* without the cache (``cache_dir=off``) every model decodes all 2,000 JPEGs;
* with it, the first model's run prepares the cache and the second and later
  models read the memory-mapped array: the script counts the JPEG decodes of
  each run to show they do none.

Usage: ``OMP_NUM_THREADS=1 PYTHONPATH=src:. python bench/prepared_cache.py [--per-class 2]``
"""

from __future__ import annotations

import argparse
import io
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch import nn

import lkadv.datasets._files as files
from lkadv import ModelSpec, hookimpl
from lkadv.config import load_options
from lkadv.datasets.imagenet import imagenet_synsets
from lkadv.plugins import PluginHost
from lkadv.runner import run


class TinyNet(nn.Module):
    def __init__(self, seed: int) -> None:
        super().__init__()
        torch.manual_seed(seed)
        self.body = nn.Sequential(nn.Conv2d(3, 8, 8, stride=8), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.fc = nn.Linear(8, 1000)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.body(x))


class BenchModels:
    @hookimpl
    def lkadv_register_models(self, registry):
        for i in range(3):
            registry.register(
                ModelSpec(
                    name=f"bench-{i}",
                    family="tiny",
                    factory=TinyNet,
                    factory_kwargs={"seed": i},
                    label_space="imagenet-1k",
                    num_classes=1000,
                    input_size=(3, 224, 224),
                    mean=(0.485, 0.456, 0.406),
                    std=(0.229, 0.224, 0.225),
                    interpolation="bicubic",
                    crop_pct=0.875,
                )
            )


def build_tree(root: Path, per_class: int) -> int:
    rng = np.random.default_rng(0)
    base = rng.integers(0, 256, (224, 224, 3), dtype=np.uint8)
    yy, xx = np.mgrid[0:224, 0:224]
    n = 0
    for c, wnid in enumerate(imagenet_synsets()):
        folder = root / "val" / wnid
        folder.mkdir(parents=True)
        for k in range(per_class):
            img = (base // 2 + ((xx * (c + 1) + yy * (k + 3)) % 128)[..., None]).astype(np.uint8)
            buf = io.BytesIO()
            Image.fromarray(img).save(buf, format="JPEG", quality=90)
            (folder / f"ILSVRC2012_val_{n:08d}.JPEG").write_bytes(buf.getvalue())
            n += 1
    return n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-class", type=int, default=2)
    parser.add_argument("--workers", type=int, default=None)
    args = parser.parse_args()
    decodes = {"n": 0}
    real = files.decode_source

    def counting(*a, **kw):
        decodes["n"] += 1
        return real(*a, **kw)

    files.decode_source = counting  # workers=0 below keeps every decode in this process, where it is counted
    host = PluginHost(entry_points=False, extra=[("bench", BenchModels())])
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        t0 = time.perf_counter()
        n = build_tree(root / "imagenet", args.per_class)
        print(f"fake ImageNet val: {n} JPEGs at 224 px, 1000 classes ({time.perf_counter() - t0:.1f}s to write)")
        workers = 0 if args.workers is None else args.workers
        times: dict[str, list[float]] = {"off": [], "on": []}
        counts: dict[str, list[int]] = {"off": [], "on": []}
        for mode in ("off", "on"):
            for i in range(3):
                opts = load_options(
                    {
                        "models": f"bench-{i}",
                        "dataset": "imagenet",
                        "limit": 0,
                        "run_dir": str(root / f"run-{mode}"),
                        "cache_dir": "off" if mode == "off" else str(root / "cache"),
                        "workers": workers,
                        "batch_size": 250,
                        "data_roots": {"imagenet": str(root / "imagenet")},
                    },
                    env={},
                    config_file=None,
                )
                decodes["n"] = 0
                t = time.perf_counter()
                result = run(opts, host=host)
                times[mode].append(time.perf_counter() - t)
                counts[mode].append(decodes["n"])
                assert not result.failures
                assert result.computed_units > 0
        print(f"{'model':<10}{'no cache s':>12}{'decodes':>9}{'cache s':>10}{'decodes':>9}{'ratio':>8}")
        for i in range(3):
            ratio = times["on"][i] / times["off"][i]
            print(
                f"bench-{i:<4}{times['off'][i]:>12.2f}{counts['off'][i]:>9}{times['on'][i]:>10.2f}"
                f"{counts['on'][i]:>9}{ratio:>8.3f}"
            )
        later = sum(times["on"][1:]) / sum(times["off"][1:])
        total = sum(times["on"]) / sum(times["off"])
        print(f"second and later models, time with cache / without: {later:.3f}")
        print(f"whole matrix (first model prepares the cache), time with / without: {total:.3f}")


if __name__ == "__main__":
    main()

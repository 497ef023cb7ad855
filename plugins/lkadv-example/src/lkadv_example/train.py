"""Train the example network and write its weights: ``python -m lkadv_example.train``.

Reads the Fashion-MNIST train split (IDX files) from ``$LKADV_DATA_FASHION_MNIST``
or Debian's ``dataset-fashion-mnist`` folder; reports accuracy on the test split
shipped with lkadv; writes the unmerged weights as safetensors (temp file, then
rename) and prints their sha256 for ``_weights.py``.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from safetensors.torch import save_file

from lkadv.datasets import read_idx
from lkadv.plugins import PluginHost
from lkadv.specs import Preprocessing
from lkadv_example import MEAN, STD
from lkadv_example._model import RepCNN, weights_path

_DEBIAN = Path("/usr/share/datasets/fashion-mnist")


def _train_split() -> tuple[torch.Tensor, torch.Tensor]:
    root = Path(os.environ.get("LKADV_DATA_FASHION_MNIST", _DEBIAN))
    images = read_idx(root / "train-images-idx3-ubyte.gz")
    labels = read_idx(root / "train-labels-idx1-ubyte.gz")
    x = torch.from_numpy(images).float().div(255).unsqueeze(1)
    return (x - MEAN[0]) / STD[0], torch.from_numpy(labels).long()


def main() -> None:
    """Train, evaluate and save."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--out", type=Path, default=weights_path())
    args = parser.parse_args()
    torch.manual_seed(0)
    x, y = _train_split()
    model = RepCNN()
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=1e-4)
    steps = args.epochs * (len(x) // 128)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=3e-3, total_steps=steps)
    t0 = time.perf_counter()
    model.train()
    for epoch in range(args.epochs):
        order = torch.randperm(len(x))
        for i in range(0, len(x) - 127, 128):
            idx = order[i : i + 128]
            loss = F.cross_entropy(model(x[idx]), y[idx])
            opt.zero_grad()
            loss.backward()  # type: ignore[no-untyped-call]
            opt.step()
            sched.step()
        print(f"epoch {epoch + 1}: loss {loss.item():.3f} ({time.perf_counter() - t0:.0f}s)", flush=True)
    model.eval()
    dataset = PluginHost(entry_points=False).registries.datasets.get("fashion-mnist")
    assert callable(dataset.loader)
    test = dataset.loader(None, Preprocessing((1, 28, 28), "bilinear"))
    with torch.no_grad():
        xt = (test.load(range(len(test.ids))) - MEAN[0]) / STD[0]
        accuracy = (model(xt).argmax(1) == test.labels).float().mean().item()
    tmp = args.out.with_name(args.out.name + ".tmp")
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(tmp))
    tmp.replace(args.out)
    print(f"test accuracy {accuracy:.4f}; wrote {args.out}")
    print(f"WEIGHTS_SHA256 = {hashlib.sha256(args.out.read_bytes()).hexdigest()!r}")


if __name__ == "__main__":
    main()

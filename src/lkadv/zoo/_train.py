"""Training the mini zoo on the Fashion-MNIST train split.

``python -m lkadv.zoo --out src/lkadv/zoo/weights`` reproduces the shipped
weights and their manifest (clean test accuracy, sha256, parameter count,
training recipe). The networks are saved *unmerged*, as official RepLKNet and
SLaK checkpoints are, so the core's merge-at-load path is exercised every run.
"""

from __future__ import annotations

import json
import math
import platform
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from safetensors.torch import save_file
from torch import nn

from lkadv.datasets import find_root, load_fashion_mnist
from lkadv.downloads import sha256_file
from lkadv.plugins import PluginHost
from lkadv.types import resolve
from lkadv.zoo._catalog import FM_MEAN, FM_STD, ZOO, ZooEntry

__all__ = ["build", "evaluate", "train_entry", "train_zoo"]


def build(entry: ZooEntry) -> nn.Module:
    """Build the unmerged network of a zoo entry."""
    return resolve(entry.builder)(**entry.kwargs)  # type: ignore[no-any-return]


def _normalize(x: torch.Tensor) -> torch.Tensor:
    return (x - FM_MEAN[0]) / FM_STD[0]


def _augment(x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """Random 2-pixel shifts and horizontal flips, batched."""
    n = x.shape[0]
    padded = F.pad(x, (2, 2, 2, 2))
    dx = torch.randint(0, 5, (n,), generator=gen)
    dy = torch.randint(0, 5, (n,), generator=gen)
    rows = (dy[:, None] + torch.arange(28)[None, :])[:, None, :, None].expand(n, 1, 28, 32)
    out = padded.gather(2, rows)
    cols = (dx[:, None] + torch.arange(28)[None, :])[:, None, None, :].expand(n, 1, 28, 28)
    out = out.gather(3, cols)
    flip = torch.rand(n, generator=gen) < 0.5
    out[flip] = out[flip].flip(-1)
    return out


@torch.inference_mode()
def evaluate(model: nn.Module, images: np.ndarray, labels: np.ndarray, batch: int = 1000) -> float:
    """Top-1 accuracy of a network on uint8 images (normalizing like the Classifier)."""
    model.eval()
    correct = 0
    for i in range(0, len(images), batch):
        x = torch.from_numpy(images[i : i + batch]).float().div(255).unsqueeze(1)
        pred = model(_normalize(x)).argmax(1)
        correct += int((pred == torch.from_numpy(labels[i : i + batch])).sum())
    return correct / len(images)


def _optimizer(
    model: nn.Module, lr: float, total: int, warmup: int
) -> tuple[torch.optim.Optimizer, torch.optim.lr_scheduler.LambdaLR]:
    """AdamW (no weight decay on norms, biases and embeddings), linear warm-up then cosine decay."""
    decay: list[nn.Parameter] = []
    no_decay: list[nn.Parameter] = []
    for name, p in model.named_parameters():
        (no_decay if p.ndim <= 1 or name.endswith(("pos_embed", "cls_token")) else decay).append(p)
    groups = [{"params": decay, "weight_decay": 0.05}, {"params": no_decay, "weight_decay": 0.0}]
    opt = torch.optim.AdamW(groups, lr=lr)

    def schedule(s: int) -> float:
        if s < warmup:
            return (s + 1) / warmup
        return 0.5 * (1 + math.cos(math.pi * (s - warmup) / max(1, total - warmup)))

    return opt, torch.optim.lr_scheduler.LambdaLR(opt, schedule)


def train_entry(
    entry: ZooEntry,
    train: tuple[np.ndarray, np.ndarray],
    *,
    epochs: int | None = None,
    batch: int = 128,
    seed: int = 0,
    log: bool = True,
) -> nn.Module:
    """Train one zoo network with AdamW and a warm-up plus cosine schedule.

    Args:
        entry: The zoo entry.
        train: ``(images, labels)`` of the train split (uint8, int64).
        epochs: Override of the entry's epochs (the tests train for a fraction).
        batch: Batch size.
        seed: Seed of initialization, shuffling and augmentation.
        log: Print one line per epoch.

    Returns:
        The trained network, in eval mode.
    """
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    model = build(entry)
    images = torch.from_numpy(train[0]).unsqueeze(1)
    labels = torch.from_numpy(train[1])
    n_epochs = entry.epochs if epochs is None else epochs
    steps_per_epoch = max(1, len(images) // batch)
    total = max(1, round(n_epochs * steps_per_epoch))
    warmup = max(1, min(steps_per_epoch, total // 10))
    opt, sched = _optimizer(model, entry.lr, total, warmup)
    step = 0
    while step < total:
        model.train()
        order = torch.randperm(len(images), generator=gen)
        t0, seen, loss_sum = time.perf_counter(), 0, 0.0
        for i in range(0, len(order) - batch + 1, batch):
            idx = order[i : i + batch]
            x = _augment(images[idx].float().div(255), gen)
            loss = F.cross_entropy(model(_normalize(x)), labels[idx], label_smoothing=0.05)
            opt.zero_grad(set_to_none=True)
            loss.backward()  # type: ignore[no-untyped-call]
            opt.step()
            sched.step()
            seen += len(idx)
            loss_sum += float(loss.detach()) * len(idx)
            step += 1
            if step >= total:
                break
        if log:
            rate = seen / (time.perf_counter() - t0)
            mean_loss = loss_sum / max(seen, 1)
            print(f"  {entry.name}: step {step}/{total} loss {mean_loss:.4f} ({rate:.0f} img/s)", flush=True)
    return model.eval()


def train_zoo(
    out: Path, names: Sequence[str] = (), *, seed: int = 0, download: bool = False
) -> dict[str, dict[str, object]]:
    """Train zoo entries, save their safetensors, and update ``manifest.json`` in ``out``.

    Args:
        out: Folder of the weights and the manifest.
        names: Entries to train (default: all).
        seed: Training seed.
        download: Download the train split when it is not found locally.

    Returns:
        The manifest entries written.
    """
    out.mkdir(parents=True, exist_ok=True)
    manifest_path = out / "manifest.json"
    manifest: dict[str, dict[str, object]] = json.loads(manifest_path.read_text()) if manifest_path.exists() else {}
    spec = PluginHost(entry_points=False).registries.datasets.get("fashion-mnist")
    train = load_fashion_mnist("train", root=find_root(spec)[0], download=download)
    test = load_fashion_mnist("test")
    print(f"train split mean {train[0].mean() / 255:.4f} std {(train[0] / 255).std():.4f}", flush=True)
    torch.set_num_threads(max(1, torch.get_num_threads()))
    for entry in ZOO:
        if names and entry.name not in names:
            continue
        t0 = time.perf_counter()
        model = train_entry(entry, train, seed=seed)
        acc = evaluate(model, *test)
        path = out / f"{entry.name}.safetensors"
        state = {k: v.contiguous() for k, v in model.state_dict().items()}
        save_file(state, str(path), metadata={"lkadv_model": entry.name, "format": "pt"})
        path.chmod(0o644)  # safetensors writes 0600; installed package data must be world-readable
        manifest[entry.name] = {
            "file": path.name,
            "sha256": sha256_file(path),
            "clean_accuracy": round(acc, 4),
            "params": sum(p.numel() for p in model.parameters()),
            "epochs": entry.epochs,
            "lr": entry.lr,
            "seed": seed,
            "train_seconds": round(time.perf_counter() - t0, 1),
            "torch": torch.__version__,
            "machine": platform.machine(),
        }
        print(f"{entry.name}: test accuracy {acc:.4f}", flush=True)
        manifest_path.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    return manifest

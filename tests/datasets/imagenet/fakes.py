"""Tiny fake trees of every ImageNet benchmark (real folder conventions, real wnids) and an oracle model.

Pixels encode the class: a flat colour with red = 4 + 8 * (c % 32) and green =
4 + 8 * (c // 32); blue = 4 + 8 * q sets the oracle's confidence q. The oracle
model reads the colour back, so a test knows exactly what it predicts.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch import nn

from lkadv import ModelSpec, hookimpl
from lkadv.datasets.imagenet._labels import IN9_CLASSES, IN9_MEMBERS, imagenet_synsets, subset_synsets

SIZE = 16
SYNSETS = imagenet_synsets()
A_SYNSETS = subset_synsets("a")
R_SYNSETS = subset_synsets("r")


def colour(c: int, q: int = 0) -> tuple[int, int, int]:
    return 4 + 8 * (c % 32), 4 + 8 * (c // 32), 4 + 8 * q


_JPEG: dict[tuple[int, int, int, int], bytes] = {}


def jpeg(c: int, q: int = 0, size: int = SIZE) -> bytes:
    key = (c, q, size, 0)
    if key not in _JPEG:
        buf = io.BytesIO()
        Image.new("RGB", (size, size), colour(c, q)).save(buf, format="JPEG", quality=95)
        _JPEG[key] = buf.getvalue()
    return _JPEG[key]


def write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def class_tree(
    root: Path,
    folders: Sequence[str],
    classes_1k: Sequence[int],
    per: int = 1,
    ext: str = ".JPEG",
    wrong: Iterable[int] = (),
    shown: dict[int, int] | None = None,
    q: int = 0,
) -> None:
    """One folder per class; image colour = its ImageNet class, except folders in ``wrong`` (colour of class+1)
    and folders in ``shown`` (the colour given)."""
    wrong = set(wrong)
    shown = shown or {}
    for i, (folder, c) in enumerate(zip(folders, classes_1k, strict=True)):
        s = shown.get(i, (c + 1) % 1000 if i in wrong else c)
        for k in range(per):
            write(root / folder / f"img_{k:05d}{ext}", jpeg(s, q))


def imagenet_val(root: Path, per: int = 1, wrong: Iterable[int] = (), q: int = 0) -> Path:
    class_tree(root / "val", SYNSETS, range(1000), per, wrong=wrong, q=q)
    return root


def subset_tree(root: Path, which: str, wrong: Iterable[int] = (), shown: dict[int, int] | None = None) -> Path:
    syn = A_SYNSETS if which == "a" else R_SYNSETS
    class_tree(root, syn, [SYNSETS.index(s) for s in syn], 1, ".jpg", wrong, shown)
    return root


def imagenet_c(root: Path, corruptions: Sequence[str] = ("gaussian_noise",)) -> Path:
    for corruption in corruptions:
        for sev in range(1, 6):
            # severity s: the first 200 * (s - 1) classes shown wrong, so the error is (s - 1) / 5
            class_tree(root / corruption / str(sev), SYNSETS, range(1000), wrong=range(200 * (sev - 1)))
    return root


def imagenet_o(root: Path, qs: Sequence[int] = (0, 0, 14, 16)) -> Path:
    """One image per confidence in ``qs``, in the first ImageNet-A class folders."""
    for s, q in zip(A_SYNSETS, qs, strict=False):
        write(root / s / "o_0.jpg", jpeg(SYNSETS.index(s), q))
    return root


def imagenet_9(root: Path) -> Path:
    """Original all right; Mixed-Same: classes 0-5 right; Mixed-Rand: classes 0-2 right (BG-Gap 33.3%)."""
    right = {"original": 9, "mixed_same": 6, "mixed_rand": 3}
    for variant, n_right in right.items():
        for k, name in enumerate(IN9_CLASSES):
            member = IN9_MEMBERS[k][0]
            shown = member if k < n_right else 500  # 500 (cliff dwelling) belongs to none of the nine
            write(root / variant / "val" / f"{k:02d}_{name}" / "x_0.JPEG", jpeg(shown))
    return root


def sketch(root: Path) -> Path:
    class_tree(root / "sketch", SYNSETS, range(1000))
    return root


def v2(root: Path) -> Path:
    class_tree(
        root / "imagenetv2-matched-frequency-format-val", [str(i) for i in range(1000)], range(1000), ext=".jpeg"
    )
    return root


def video(path: Path, classes: Sequence[int], size: int = SIZE) -> None:
    import av

    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), "w") as container:
        stream = container.add_stream("mpeg4", rate=10)
        stream.width = stream.height = size
        stream.pix_fmt = "yuv420p"
        stream.options = {"qscale": "1"}
        for c in classes:
            frame = np.zeros((size, size, 3), np.uint8)
            frame[:] = colour(c)
            for packet in stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)


def imagenet_p(root: Path, sequences: dict[str, dict[str, Sequence[int]]]) -> Path:
    """``{folder: {wnid: frame classes}}``, one video per wnid."""
    for folder, by_wnid in sequences.items():
        for wnid, classes in by_wnid.items():
            video(root / folder / wnid / f"{wnid}_v.mp4", classes)
    return root


class OracleNet(nn.Module):
    """Reads the class and confidence from the flat colour; ranks c, c+1, c+2... (mod 1000) first."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        m = x.float().mean((2, 3)) * 255
        r, g, q = (((m[:, i] - 4) / 8).round().clamp(0, 31) for i in range(3))
        c = (r + 32 * g).clamp(0, 999).long()
        k = torch.arange(1000, device=x.device)
        logits = -0.01 * ((k[None, :] - c[:, None]) % 1000).float()
        return logits + q[:, None] * (k[None, :] == c[:, None]).float()


def oracle_factory() -> nn.Module:
    return OracleNet()


def oracle_spec(name: str = "oracle", size: int = SIZE) -> ModelSpec:
    return ModelSpec(
        name=name,
        family="oracle",
        factory=oracle_factory,
        label_space="imagenet-1k",
        num_classes=1000,
        input_size=(3, size, size),
        mean=(0.0, 0.0, 0.0),
        std=(1.0, 1.0, 1.0),
        interpolation="bilinear",
        crop_pct=1.0,
        tags=frozenset({"oracle"}),
    )


class OraclePlugin:
    @hookimpl
    def lkadv_register_models(self, registry):
        registry.register(oracle_spec("oracle"))
        registry.register(oracle_spec("oracle-b"))

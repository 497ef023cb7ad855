"""The architectures and the known official weight files, as plain data.

This module imports neither torch nor timm, so that registering and listing the
models stays cheap; builders are named by ``module:attribute`` and imported on
use. Parameter counts are filled in statically (the tests rebuild every variant
on the meta device and check them).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

__all__ = [
    "ARCHITECTURES",
    "IMAGENET_MEAN",
    "IMAGENET_STD",
    "INCEPTION_MEAN",
    "INCEPTION_STD",
    "REPARAM_RTOL",
    "WEIGHTS",
    "ArchInfo",
    "Source",
    "WeightsEntry",
]

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
INCEPTION_MEAN = (0.5, 0.5, 0.5)
INCEPTION_STD = (0.5, 0.5, 0.5)

# Largest accepted max|merged - unmerged| / max|unmerged| of the logits after structural
# re-parameterization, per family. Merging is exact in real arithmetic; in fp32 each merged
# output differs from the branch sum by rounding only: the folded kernel sums K^2 products
# in another order (relative error ~ sqrt(K^2) * 2^-24, about 3e-6 for a 51x51 kernel) and
# that error passes through 20-40 residual blocks. Measured on all 15 real variants with
# random weights and non-trivial BatchNorm, GRN and layer-scale values (64px inputs), the
# worst relative error is 7.6e-7 (RepLKNet-31L), 6.5e-7 (SLaK-T), 6.6e-7 (UniRepLKNet-B).
# 1e-4 (the acceptance bound) leaves two orders of magnitude for trained weights and larger
# inputs, yet catches wrong merges: the tests see a mis-centred small kernel err by more
# than 1e-2, and a dropped branch fail the core's check.
REPARAM_RTOL: Mapping[str, float] = MappingProxyType({"replknet": 1e-4, "slak": 1e-4, "unireplknet": 1e-4})


@dataclass(frozen=True)
class ArchInfo:
    """One architecture variant (timm-style name, e.g. ``replknet_31b``).

    Attributes:
        name: Architecture name (also its timm entrypoint name).
        family: ``replknet``, ``slak`` or ``unireplknet``.
        builder: ``module:Class`` of the network.
        kwargs: Builder arguments for the variant.
        kernel_sizes: Largest depthwise kernel per stage.
        params: Parameters of the training-time (checkpoint) form, 1000 classes.
        merged_params: Parameters after structural re-parameterization.
        published_params: The count the authors publish for the variant, as printed (``"4.4M"``).
        published_basis: What the published count counts: ``"merged"`` (the inference
            form) or ``"nonzero"`` (non-zero weights of the 40%-sparse SLaK training).
        description: One line for listings.
    """

    name: str
    family: str
    builder: str
    kwargs: Mapping[str, Any]
    kernel_sizes: tuple[int, ...]
    params: int
    merged_params: int
    published_params: str
    published_basis: str
    description: str


@dataclass(frozen=True)
class Source:
    """Where an official file is published.

    Attributes:
        kind: ``"hf"`` (Hugging Face Hub repo), ``"url"`` (direct download),
            ``"gdrive"`` (Google Drive file id) or ``"baidu"`` (Baidu Pan share, manual).
        location: Repo id, URL or file id.
        filename: File name inside a Hugging Face repo.
        note: Access hint (e.g. the Baidu pass code).
    """

    kind: str
    location: str
    filename: str = ""
    note: str = ""

    @property
    def page(self) -> str:
        """A human-facing address of the file."""
        if self.kind == "hf":
            return f"https://huggingface.co/{self.location}/blob/main/{self.filename}"
        if self.kind == "gdrive":
            return f"https://drive.google.com/file/d/{self.location}/view"
        return self.location + (f" ({self.note})" if self.note else "")

    @property
    def download_url(self) -> str | None:
        """A URL a program can try to download, or None for manual-only sources."""
        if self.kind == "hf":
            return f"https://huggingface.co/{self.location}/resolve/main/{self.filename}"
        if self.kind == "gdrive":
            # Large files answer this with an HTML "virus scan" page; the fetcher detects it.
            return f"https://drive.google.com/uc?export=download&id={self.location}"
        if self.kind == "url":
            return self.location
        return None


@dataclass(frozen=True)
class WeightsEntry:
    """One official weight file and the preprocessing it was trained and evaluated with.

    Attributes:
        name: Registry name, ``ARCH.TAG`` (also the timm ``arch.tag``).
        arch: Architecture name.
        filename: File name in the official release (the name looked up on disk).
        sources: Where to get it, in the order downloads are attempted.
        input_size: Evaluation resolution (square).
        mean: Normalization mean.
        std: Normalization std.
        crop_pct: Centre-crop fraction at evaluation (1.0 with ``squash``).
        crop_mode: ``"center"`` (resize the short side, crop) or ``"squash"`` (resize to a square).
        top1: Published ImageNet-1K top-1 in percent.
        sha256: Published sha256 of the file, if any (none of the releases publish one).
        size: Published size in bytes, if any.
        num_classes: Number of logits.
        label_space: Label space of the logits.
        note: Caveats shown in listings and errors.
    """

    name: str
    arch: str
    filename: str
    sources: tuple[Source, ...]
    input_size: int
    mean: tuple[float, float, float]
    std: tuple[float, float, float]
    crop_pct: float
    crop_mode: str
    top1: float
    sha256: str | None = None
    size: int | None = None
    num_classes: int = 1000
    label_space: str = "imagenet-1k"
    note: str = ""

    @property
    def tag(self) -> str:
        """The part of the name after the architecture."""
        return self.name.split(".", 1)[1]

    @property
    def weights_id(self) -> str:
        """Identity of the weights for result keys: the published hash, else the official file name."""
        return f"sha256:{self.sha256}" if self.sha256 else f"official:{self.filename}"

    @property
    def candidate_names(self) -> tuple[str, ...]:
        """File names accepted on disk: the official one, then ``NAME.{pth,pt,safetensors}``."""
        own = [f"{self.name}{ext}" for ext in (".safetensors", ".pth", ".pt")]
        return tuple(dict.fromkeys([self.filename, *own]))


def _arch(
    name: str,
    family: str,
    kwargs: Mapping[str, Any],
    kernels: tuple[int, ...],
    counts: tuple[int, int],
    published: tuple[str, str],
    description: str,
) -> ArchInfo:
    builder = {
        "replknet": "lkadv_largekernel._replknet:RepLKNet",
        "slak": "lkadv_largekernel._slak:SLaK",
        "unireplknet": "lkadv_largekernel._unireplknet:UniRepLKNet",
    }[family]
    return ArchInfo(name, family, builder, MappingProxyType(dict(kwargs)), kernels, *counts, *published, description)


_RLK = {"layers": (2, 2, 18, 2), "small_kernel": 5}
_RLK_K = (31, 29, 27, 13)
_SLAK_K = (51, 49, 47, 13)
_UNI_AFP = (2, 2, 6, 2)
_UNI_SBLXL = (3, 3, 27, 3)
_UNI_K = (3, 13, 13, 13)

ARCHITECTURES: Mapping[str, ArchInfo] = MappingProxyType(
    {
        a.name: a
        for a in (
            _arch(
                "replknet_31b",
                "replknet",
                {**_RLK, "large_kernel_sizes": _RLK_K, "channels": (128, 256, 512, 1024)},
                _RLK_K,
                (79_864_168, 79_388_776),
                ("79M", "merged"),
                "RepLKNet-31B: 31/29/27/13 depthwise kernels + parallel 5x5",
            ),
            _arch(
                "replknet_31l",
                "replknet",
                {**_RLK, "large_kernel_sizes": _RLK_K, "channels": (192, 384, 768, 1536)},
                _RLK_K,
                (172_671_016, 171_957_928),
                ("172M", "merged"),
                "RepLKNet-31L: 31/29/27/13 depthwise kernels + parallel 5x5",
            ),
            _arch(
                "replknet_xl",
                "replknet",
                {
                    "layers": (2, 2, 18, 2),
                    "large_kernel_sizes": (27, 27, 27, 13),
                    "channels": (256, 512, 1024, 2048),
                    "small_kernel": None,
                    "dw_ratio": 1.5,
                },
                (27, 27, 27, 13),
                (335_435_752, 335_110_632),
                ("335M", "merged"),
                "RepLKNet-XL: 27/27/27/13 kernels, depthwise width x1.5, no small kernel",
            ),
            _arch(
                "slak_tiny",
                "slak",
                {"depths": (3, 3, 9, 3), "dims": (96, 192, 384, 768), "kernel_sizes": _SLAK_K},
                _SLAK_K,
                (50_703_838, 60_577_702),
                ("30M", "nonzero"),
                "SLaK-T: decomposed 51/49/47/13 x 5 kernels + 5x5, width x1.3",
            ),
            _arch(
                "slak_small",
                "slak",
                {"depths": (3, 3, 27, 3), "dims": (96, 192, 384, 768), "kernel_sizes": _SLAK_K},
                _SLAK_K,
                (91_131_820, 116_355_922),
                ("55M", "nonzero"),
                "SLaK-S: decomposed 51/49/47/13 x 5 kernels + 5x5, width x1.3",
            ),
            _arch(
                "slak_base",
                "slak",
                {"depths": (3, 3, 27, 3), "dims": (128, 256, 512, 1024), "kernel_sizes": _SLAK_K},
                _SLAK_K,
                (157_950_792, 191_571_678),
                ("95M", "nonzero"),
                "SLaK-B: decomposed 51/49/47/13 x 5 kernels + 5x5, width x1.3",
            ),
            *(
                _arch(
                    f"unireplknet_{v}",
                    "unireplknet",
                    {"depths": depths, "dims": dims},
                    _UNI_K,
                    counts,
                    (published, "merged"),
                    f"UniRepLKNet-{v.upper()}: 13x13 Dilated Reparam Blocks + 3x3 blocks, SE, GRN",
                )
                for v, depths, dims, counts, published in (
                    ("a", _UNI_AFP, (40, 80, 160, 320), (4_649_060, 4_437_300), "4.4M"),
                    ("f", _UNI_AFP, (48, 96, 192, 384), (6_489_328, 6_235_216), "6.2M"),
                    ("p", _UNI_AFP, (64, 128, 256, 512), (11_080_520, 10_741_704), "10.7M"),
                    ("n", (2, 2, 8, 2), (80, 160, 320, 640), (18_818_880, 18_318_560), "18.3M"),
                    ("t", (3, 3, 18, 3), (80, 160, 320, 640), (31_693_420, 31_037_980), "31M"),
                    ("s", _UNI_SBLXL, (96, 192, 384, 768), (56_456_704, 55_645_984), "56M"),
                    ("b", _UNI_SBLXL, (128, 256, 512, 1024), (99_089_416, 98_008_456), "98M"),
                    ("l", _UNI_SBLXL, (192, 384, 768, 1536), (220_076_056, 218_454_616), "218M"),
                    ("xl", _UNI_SBLXL, (256, 512, 1024, 2048), (388_690_984, 386_529_064), "386M"),
                )
            ),
        )
    }
)


def _gd(file_id: str) -> Source:
    return Source("gdrive", file_id)


def _baidu(url: str) -> Source:
    return Source("baidu", url, note="pass code lknt")


def _hf(filename: str) -> Source:
    return Source("hf", "DingXiaoH/UniRepLKNet", filename)


def _w224(name: str, filename: str, sources: tuple[Source, ...], top1: float, **kw: Any) -> WeightsEntry:
    return WeightsEntry(
        name, name.split(".")[0], filename, sources, 224, IMAGENET_MEAN, IMAGENET_STD, 0.875, "center", top1, **kw
    )


def _w384(name: str, filename: str, sources: tuple[Source, ...], top1: float, **kw: Any) -> WeightsEntry:
    # The official evaluation warps (resizes to a square, no crop) at 384 and above.
    return WeightsEntry(
        name, name.split(".")[0], filename, sources, 384, IMAGENET_MEAN, IMAGENET_STD, 1.0, "squash", top1, **kw
    )


_SURF = "https://surfdrive.surf.nl/files/index.php/s/{}/download"

WEIGHTS: Mapping[str, WeightsEntry] = MappingProxyType(
    {
        w.name: w
        for w in (
            # RepLKNet (DingXiaoH/RepLKNet-pytorch README): Google Drive and Baidu only.
            _w224(
                "replknet_31b.in1k",
                "RepLKNet-31B_ImageNet-1K_224.pth",
                (_gd("1azQUiCxK9feYVkkrPqwVPBtNsTzDrX7S"), _baidu("https://pan.baidu.com/s/1gspbbfqooMtegt_DO1TUeA")),
                83.5,
            ),
            _w384(
                "replknet_31b.in1k_384",
                "RepLKNet-31B_ImageNet-1K_384.pth",
                (_gd("1vo-P3XB6mRLUeDzmgv90dOu73uCeLfZN"), _baidu("https://pan.baidu.com/s/1WhLaCKKv4NuKc3qMYECOIQ")),
                84.8,
            ),
            _w224(
                "replknet_31b.in22k_ft_in1k",
                "RepLKNet-31B_ImageNet-22K-to-1K_224.pth",
                (_gd("1DslZ2voXZQR1QoFY9KnbsHAeF84hzS0s"), _baidu("https://pan.baidu.com/s/169wDunCdop-jQM8K-AX27g")),
                85.2,
            ),
            _w384(
                "replknet_31b.in22k_ft_in1k_384",
                "RepLKNet-31B_ImageNet-22K-to-1K_384.pth",
                (_gd("1Sc46BWdXXm2fVP-K_hKKU_W8vAB-0duX"), _baidu("https://pan.baidu.com/s/11-F3JIKEzSOU7KUhebUWEQ")),
                86.0,
            ),
            _w384(
                "replknet_31l.in22k_ft_in1k_384",
                "RepLKNet-31L_ImageNet-22K-to-1K_384.pth",
                (_gd("1JYXoNHuRvC33QV1pmpzMTKEni1hpWfBl"), _baidu("https://pan.baidu.com/s/1MWIsPXJJV4mTEtgcKv3F3w")),
                86.6,
            ),
            WeightsEntry(
                "replknet_xl.megdata73m_ft_in1k_320",
                "replknet_xl",
                "RepLKNet-XL_MegData73M_ImageNet1K.pth",
                (_gd("1tPC60El34GntXByIRHb-z-Apm4Y5LX1T"), _baidu("https://pan.baidu.com/s/1C1bJJLz9O28ChZ4NcxjUsw")),
                320,
                INCEPTION_MEAN,
                INCEPTION_STD,
                0.875,
                "center",
                87.8,
                note="mean/std 0.5 (the official README)",
            ),
            # SLaK (VITA-Group/SLaK README): 300-epoch models on Google Drive, 120-epoch on SURFdrive.
            # Their file names are not published: they are stored under the registry name.
            _w224("slak_tiny.in1k", "slak_tiny.in1k.pth", (_gd("1Iut2f5FMS_77jGPYoUJDQzDIXOsax1u4"),), 82.5),
            _w224("slak_small.in1k", "slak_small.in1k.pth", (_gd("1etM6KQbnlsgDAZ37adsQJ3UI8Bbv2AVe"),), 83.8),
            _w224("slak_base.in1k", "slak_base.in1k.pth", (_gd("1duUxUD3RSblQ6eDHd0n-u0aulwGypf1j"),), 84.0),
            _w224(
                "slak_tiny.in1k_e120",
                "slak_tiny.in1k_e120.pth",
                (Source("url", _SURF.format("WiQYWNclJ9bW5XV")),),
                81.6,
                note="120-epoch training (the kernel-size ablation of the paper)",
            ),
            # UniRepLKNet (AILab-CVC/UniRepLKNet): the Hugging Face repo DingXiaoH/UniRepLKNet.
            *(
                _w224(f"unireplknet_{v}.in1k", f, (_hf(f),), top1)
                for v, f, top1 in (
                    ("a", "unireplknet_a_in1k_224_acc77.03.pth", 77.03),
                    ("f", "unireplknet_f_in1k_224_acc78.58.pth", 78.58),
                    ("p", "unireplknet_p_in1k_224_acc80.23.pth", 80.23),
                    ("n", "unireplknet_n_in1k_224_acc81.64.pth", 81.64),
                    ("t", "unireplknet_t_in1k_224_acc83.21.pth", 83.21),
                    ("s", "unireplknet_s_in1k_224_acc83.91.pth", 83.91),
                )
            ),
            *(
                _w384(f"unireplknet_{v}.in22k_ft_in1k_384", f, (_hf(f),), top1, note=note)
                for v, f, top1, note in (
                    ("s", "unireplknet_s_in22k_to_in1k_384_acc86.44.pth", 86.44, ""),
                    ("b", "unireplknet_b_in22k_to_in1k_384_acc87.40.pth", 87.40, ""),
                    ("l", "unireplknet_l_in22k_to_in1k_384_acc87.88.pth", 87.88, ""),
                    (
                        "xl",
                        "unireplknet_xl_in22k_to_in1k_384_acc87.96.pth",
                        87.96,
                        "the official README lists this file as lost; the name is the one its code requests",
                    ),
                )
            ),
        )
    }
)

"""Built-in plugin: ImageNet val and its robustness benchmarks, read from their released folders."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from lkadv.datasets.imagenet._names import C_CORRUPTIONS, P_PERTURBATIONS
from lkadv.plugins import DoctorCheck, hookimpl
from lkadv.registries import Registry
from lkadv.specs import DatasetSpec

if TYPE_CHECKING:
    from lkadv.metrics import ReportSection, Summary
    from lkadv.store import Ledger


__all__ = ["DATASETS", "VERSION", "lkadv_doctor_checks", "lkadv_register_datasets", "lkadv_report_sections", "spec"]

# Every reference below is a "module:attribute" string: registering and listing
# must not import torch, numpy or the decoders.
_S = "lkadv.datasets.imagenet._scoring:"
_LOADERS = "lkadv.datasets.imagenet._loaders:"
VERSION = "1"

_EPS = {"linf": (1 / 255, 2 / 255, 4 / 255), "l2": (0.25, 0.5, 1.0)}


@dataclass(frozen=True)
class _Def:
    name: str
    folder: str
    layout: str
    description: str
    num_classes: int = 1000
    label_space: str = "imagenet-1k"
    head: Any = None
    extras: Any = None
    adjust: Any = None
    benchmark: Any = _S + "benchmark_top1"
    companions: tuple[str, ...] = ()


DATASETS: dict[str, _Def] = {
    d.name: d
    for d in (
        _Def(
            "imagenet",
            "imagenet",
            "val/<wnid>/*.JPEG with the 1000 wnid folders (the root may also be the val folder itself)",
            "ImageNet-1k validation (50,000 images, 1000 classes)",
        ),
        _Def(
            "imagenet-c",
            "imagenet-c",
            "<corruption>/<severity 1-5>/<wnid>/*.JPEG, all 1000 wnids under each severity "
            "(e.g. gaussian_noise/3/n01440764/ILSVRC2012_val_00000293.JPEG)",
            "ImageNet-C released images (19 corruptions x 5 severities x 50,000); mCE over the 15",
            adjust=_S + "no_resize_at_224",
            benchmark=_S + "benchmark_c",
        ),
        _Def(
            "imagenet-a",
            "imagenet-a",
            "<wnid>/*.jpg with the 200 ImageNet-A wnid folders",
            "ImageNet-A (7,500 natural adversarial images, 200 classes, masked top-1)",
            200,
            "imagenet-a-200",
            head=_S + "head_a",
            benchmark=_S + "benchmark_top1_masked",
        ),
        _Def(
            "imagenet-r",
            "imagenet-r",
            "<wnid>/*.jpg with the 200 ImageNet-R wnid folders",
            "ImageNet-R (30,000 renditions, 200 classes, masked top-1)",
            200,
            "imagenet-r-200",
            head=_S + "head_r",
            benchmark=_S + "benchmark_top1_masked",
        ),
        _Def(
            "imagenet-o",
            "imagenet-o",
            "<wnid>/*.jpg with ImageNet-A wnid folders (2,000 images), plus an ImageNet val root",
            "ImageNet-O (2,000 out-of-distribution images vs ImageNet val of the same 200 wnids; AUPR)",
            200,
            "imagenet-a-200",
            head=_S + "head_a",
            extras=_S + "extras_msp",
            benchmark=_S + "benchmark_o",
            companions=("imagenet",),
        ),
        _Def(
            "imagenet-p",
            "imagenet-p",
            "<perturbation>[_<difficulty>]/<wnid>/*.mp4 (e.g. gaussian_noise_2/n01440764/x.mp4, tilt/n01440764/x.mp4)",
            "ImageNet-P perturbation videos, one sample per frame (flip probability, top-5 distance)",
            extras=_S + "extras_top5",
            adjust=_S + "no_resize_at_224",
            benchmark=_S + "benchmark_p",
        ),
        _Def(
            "imagenet-9",
            "imagenet-9",
            "{original,mixed_same,mixed_rand}/val/<00_dog ... 08_fish>/* (the backgrounds challenge release)",
            "ImageNet-9 backgrounds challenge (Original, Mixed-Same, Mixed-Rand; BG-Gap)",
            9,
            "imagenet-9",
            head=_S + "head_in9",
            adjust=_S + "no_resize_at_224",
            benchmark=_S + "benchmark_in9",
        ),
        _Def(
            "imagenet-sketch",
            "imagenet-sketch",
            "sketch/<wnid>/*.JPEG or <wnid>/*.JPEG with the 1000 wnid folders",
            "ImageNet-Sketch (50,889 sketches, 1000 classes)",
        ),
        _Def(
            "imagenet-v2",
            "imagenet-v2",
            "<0..999>/*.jpeg class-index folders (imagenetv2-matched-frequency-format-val), or a root holding "
            "one imagenetv2-* folder",
            "ImageNet-V2 (10,000 images, 1000 classes)",
        ),
        _Def(
            "stylized-imagenet",
            "stylized-imagenet",
            "val/<wnid>/*.JPEG or <wnid>/*.JPEG with the 1000 wnid folders",
            "Stylized-ImageNet validation (1000 classes)",
        ),
    )
}


def spec(name: str) -> DatasetSpec:
    """The DatasetSpec of one benchmark."""
    d = DATASETS[name]
    return DatasetSpec(
        name=d.name,
        label_space=d.label_space,
        num_classes=d.num_classes,
        loader=_LOADERS + "load_" + d.name.replace("-", "_"),
        accepts=("imagenet-1k",),
        head=d.head,
        root_folder=d.folder,
        layout=d.layout,
        default_eps=_EPS,
        default_batch_size=64,
        counter=_LOADERS + "count_" + d.name.replace("-", "_"),
        description=d.description,
        version=VERSION,
        companions=d.companions,
        adjust_preprocessing=d.adjust,
        extras=d.extras,
        benchmark=d.benchmark,
    )


@hookimpl
def lkadv_register_datasets(registry: Registry[DatasetSpec]) -> None:
    """Register ImageNet val and the robustness benchmarks."""
    for name in DATASETS:
        registry.register(spec(name))


@hookimpl
def lkadv_doctor_checks() -> list[DoctorCheck]:
    """What each found benchmark lacks for its published figures."""
    from lkadv.datasets import find_root

    checks = []
    c_root, _ = find_root(spec("imagenet-c"))
    if c_root is not None and c_root.is_dir():
        present = {p.name for p in c_root.iterdir() if p.is_dir()}
        lacking = [c for c in C_CORRUPTIONS[:15] if c not in present]
        detail = "all 15 mCE corruptions present" if not lacking else f"mCE needs {', '.join(lacking)}"
        checks.append(DoctorCheck("imagenet benchmarks", "imagenet-c", "ok" if not lacking else "warn", detail))
    p_root, _ = find_root(spec("imagenet-p"))
    if p_root is not None and p_root.is_dir():
        present = {p.name for p in p_root.iterdir() if p.is_dir()}
        lacking = [c for c in P_PERTURBATIONS[:10] if c not in present]
        detail = "all 10 mFR perturbations present" if not lacking else f"mFP/mT5D need {', '.join(lacking)}"
        checks.append(DoctorCheck("imagenet benchmarks", "imagenet-p", "ok" if not lacking else "warn", detail))
    o_root, _ = find_root(spec("imagenet-o"))
    if o_root is not None:
        val_root, source = find_root(spec("imagenet"))
        ok = val_root is not None and val_root.is_dir()
        detail = f"ImageNet val from {source}" if ok else "needs an ImageNet val root (LKADV_DATA_IMAGENET)"
        checks.append(DoctorCheck("imagenet benchmarks", "imagenet-o", "ok" if ok else "missing", detail))
    return checks


def _details(dataset: str) -> Callable[..., dict[str, float]] | None:
    """Per-model figures of a run's report section (None: the main table says it all)."""
    from lkadv.datasets.imagenet import _scoring as sc

    def c(ids: Any, out: Any) -> dict[str, float]:
        per = {k[3:] + " CE %": 100 * v for k, v in sc.c_details(ids, out).items() if k.startswith("CE:")}
        return {**sc.benchmark_c(ids, out), **per}

    def p(ids: Any, out: Any) -> dict[str, float]:
        per = {k: (100 * v if k.startswith("FP:") else v) for k, v in sc.p_details(ids, out).items()}
        return {**sc.benchmark_p(ids, out), **per}

    table: dict[str, Callable[..., dict[str, float]]] = {
        "imagenet-c": c,
        "imagenet-p": p,
        "imagenet-9": sc.benchmark_in9,
        "imagenet-o": sc.benchmark_o,
        "imagenet-a": sc.benchmark_top1_masked,
        "imagenet-r": sc.benchmark_top1_masked,
    }
    return table.get(dataset)


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


@hookimpl
def lkadv_report_sections(summary: Summary, ledger: Ledger) -> list[ReportSection]:
    """The benchmark's published figures per model, under the main table of a run on it."""
    from lkadv.metrics import ReportSection

    detail = _details(summary.dataset)
    if detail is None:
        return []
    ids = ledger.subset_ids(summary.subset.get("digest", ""))
    rows: list[dict[str, float]] = []
    models = []
    for cell in summary.cells:
        if cell.kind != "clean" or cell.status != "done":
            continue
        outcomes = ledger.outcomes(cell.key)
        if len(outcomes) != len(ids):
            continue
        models.append(cell.model)
        rows.append(detail(ids, outcomes))
    if not rows:
        return []
    columns = list(dict.fromkeys(k for r in rows for k in r))
    notes = []
    if summary.dataset == "imagenet-o":
        notes.append("the main table's accuracy mixes ImageNet-O and ImageNet val images; AUPR is the figure")
    if summary.dataset == "imagenet-p":
        notes.append("FP/T5D at difficulty 1, unnormalized (AlexNet's flip probabilities are not shipped)")
    if summary.dataset == "imagenet-c":
        notes.append("mCE: CE normalized by AlexNet's errors, averaged over the 15 corruptions (n/a if any missing)")
    return [
        ReportSection(
            title=f"{summary.dataset}: published figures",
            columns=["model", *columns],
            rows=[[m, *[_round(r.get(c)) for c in columns]] for m, r in zip(models, rows, strict=True)],
            notes=notes,
            key=f"benchmark:{summary.dataset}",
        )
    ]

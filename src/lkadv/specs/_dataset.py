"""The dataset contract: where samples live, how to read them, how to score logits."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from lkadv.config import ENV_PREFIX, data_variable
from lkadv.specs._common import check, check_factory, check_name
from lkadv.specs._model import ModelSpec

if TYPE_CHECKING:
    import torch

__all__ = ["BAD_IMAGE_POLICIES", "DatasetSpec", "ImageSet", "LoadContext", "Preprocessing"]

BAD_IMAGE_POLICIES = ("fail", "skip")


@dataclass(frozen=True)
class Preprocessing:
    """How raw images become model input: part of every cell key.

    Attributes:
        input_size: ``(channels, height, width)`` of the model input.
        interpolation: Resize interpolation.
        crop_pct: Centre-crop fraction (the image is resized to ``size / crop_pct``
            on its short side, then centre-cropped).
        crop_mode: ``"center"`` (resize short side, crop) or ``"squash"`` (resize to
            a square, no crop).
    """

    input_size: tuple[int, int, int]
    interpolation: str = "bicubic"
    crop_pct: float = 1.0
    crop_mode: str = "center"

    @classmethod
    def for_model(cls, spec: ModelSpec) -> Preprocessing:
        """The eval transform a model was trained for."""
        return cls(spec.input_size, spec.interpolation, spec.crop_pct, spec.crop_mode)

    def key(self) -> str:
        """A stable string identity."""
        c, h, w = self.input_size
        return f"{c}x{h}x{w}-{self.interpolation}-crop{self.crop_pct:g}-{self.crop_mode}"


@dataclass(frozen=True)
class LoadContext:
    """What a loader may need besides its root and preprocessing.

    A loader receives it when it has a parameter named ``context``.

    Attributes:
        on_bad_image: ``"fail"`` (a corrupt image stops the run) or ``"skip"``
            (it is left out of the subset and counted).
        workers: Decoding worker processes (0: in this process).
        companions: Roots of the datasets listed in the spec's ``companions``.
    """

    on_bad_image: str = "fail"
    workers: int = 0
    companions: Mapping[str, Path] = field(default_factory=dict)


class ImageSet(Protocol):
    """Indexable samples of one dataset under one preprocessing.

    ``ids`` are stable sample identifiers (file paths relative to the root, or
    split indices), ``labels`` are int64 in the dataset's class space, and
    ``load(positions)`` returns float32 NCHW in [0, 1] at the preprocessing size.
    ``info`` holds counts worth recording (skipped corrupt images...).

    Optional members the core uses when present: ``strata`` (ints, one per
    sample: subsets are balanced over them instead of the labels), ``groups``
    (one key per sample: samples of a group, such as the frames of a video, are
    drawn together), ``load_uint8(positions, pin=False)`` (uint8 NCHW, so that
    a quarter of the bytes crosses to the GPU, optionally in pinned memory) and
    the prepared-data cache protocol of :mod:`lkadv.datasets` (``prepare_source``).
    """

    @property
    def ids(self) -> Sequence[str]:
        """Stable identifiers, one per sample."""
        ...

    @property
    def labels(self) -> torch.Tensor:
        """Int64 labels, one per sample."""
        ...

    @property
    def info(self) -> Mapping[str, Any]:
        """Facts worth recording with results."""
        ...

    def load(self, positions: Sequence[int]) -> torch.Tensor:
        """Images at the given positions, float32 NCHW in [0, 1]."""
        ...


@dataclass(frozen=True, kw_only=True)
class DatasetSpec:
    """A registered dataset.

    Attributes:
        name: Registry name (``"fashion-mnist"``, ``"imagenet-r"``...).
        label_space: Label space its class indices live in.
        num_classes: Number of dataset classes.
        loader: Callable (or ``module:attribute``) ``(root, preprocessing) -> ImageSet``;
            ``root`` is ``None`` for shipped data.
        accepts: Model label spaces it can score (default: its own).
        head: Optional callable (or reference) mapping model logits to dataset
            class logits (a 200-class mask, a 1000 -> 9 grouping). Attacks see the
            mapped logits, so they attack the decision that is scored.
        shipped: Whether the data ships with the plugin (no root needed).
        root_env: Environment variable naming its root (default
            ``LKADV_DATA_<NAME>``).
        root_folder: Conventional folder name under ``LKADV_DATA_ROOT``.
        layout: Human description of the expected folder layout, for errors.
        default_limit: Samples used when the run gives no ``--limit`` (``None``: all).
        default_eps: Default eps grid per norm, in pixel units.
        default_batch_size: Batch size on CPU when the run gives none.
        counter: Optional callable ``(root) -> int`` counting images, for ``doctor``.
        mce_baseline: Model that normalizes mCE on this dataset when the run names
            none (``--mce-baseline``); ImageNet-label-space datasets leave it None
            and use AlexNet's published errors.
        description: One line for listings.
        version: Loader version, part of every cell key.
        companions: Other datasets whose roots the loader needs (ImageNet-O reads
            the ImageNet val images of its 200 classes); they arrive in
            ``LoadContext.companions``.
        adjust_preprocessing: Optional callable (or reference) ``Preprocessing ->
            Preprocessing``: a dataset-level override of the model's eval transform
            (ImageNet-C's images are stored at 224 and are not resized for 224
            models). The adjusted transform is the one in every cell key.
        extras: Optional callable (or reference) ``mapped_logits -> {name: [N, ...]
            tensor}`` of per-sample values the dataset's metrics need beyond
            correctness (ImageNet-O's max softmax, ImageNet-P's top-5); they are
            stored per sample with the outcomes of clean and corruption cells.
        benchmark: Optional callable (or reference) ``(ids, outcomes) -> {figure:
            value}``: the dataset's headline figures in their published form
            (masked top-1, AUPR, mFR...), from a clean cell's outcomes. Without it
            the headline is top-1.
    """

    name: str
    label_space: str
    num_classes: int
    loader: Callable[..., Any] | str
    accepts: tuple[str, ...] = ()
    head: Callable[..., Any] | str | None = None
    shipped: bool = False
    root_env: str | None = None
    root_folder: str | None = None
    layout: str = ""
    default_limit: int | None = None
    default_eps: Mapping[str, tuple[float, ...]] = field(default_factory=dict)
    default_batch_size: int = 128
    counter: Callable[[Path], int] | str | None = None
    mce_baseline: str | None = None
    description: str = ""
    version: str = "1"
    companions: tuple[str, ...] = ()
    adjust_preprocessing: Callable[[Preprocessing], Preprocessing] | str | None = None
    extras: Callable[..., Any] | str | None = None
    benchmark: Callable[..., Any] | str | None = None

    @property
    def env_var(self) -> str:
        """The environment variable that names this dataset's root."""
        return self.root_env or data_variable(self.name)

    def accepts_model(self, model: ModelSpec) -> bool:
        """Whether this dataset can score the model's logits."""
        return model.label_space in (self.accepts or (self.label_space,))

    def validate(self) -> None:
        """Check every field against the contract.

        Raises:
            SpecError: Naming the spec and the offending field.
        """
        kind, n = "DatasetSpec", self.name
        check_name(kind, n)
        check(bool(self.label_space), kind, n, "label_space", "must be a non-empty string")
        check(
            isinstance(self.num_classes, int) and self.num_classes >= 2, kind, n, "num_classes", "must be an int >= 2"
        )
        check_factory(kind, n, self.loader, "loader")
        for fname in ("head", "adjust_preprocessing", "extras", "benchmark", "counter"):
            value = getattr(self, fname)
            if value is not None:
                check_factory(kind, n, value, fname)
        check(
            self.shipped or bool(self.root_folder) or bool(self.root_env),
            kind,
            n,
            "root_folder",
            "is required for data that is not shipped (or set root_env)",
        )
        check(
            self.root_env is None or self.root_env.startswith(ENV_PREFIX),
            kind,
            n,
            "root_env",
            f"must start with {ENV_PREFIX} (lkadv reads and records its own variables only)",
        )
        check(self.default_limit is None or self.default_limit > 0, kind, n, "default_limit", "must be positive")
        check(self.default_batch_size > 0, kind, n, "default_batch_size", "must be positive")
        for norm, grid in self.default_eps.items():
            check(all(e >= 0 for e in grid), kind, n, f"default_eps.{norm}", "must hold non-negative radii")

    def describe(self) -> dict[str, Any]:
        """A JSON-ready description."""
        return {
            "name": self.name,
            "label_space": self.label_space,
            "num_classes": self.num_classes,
            "accepts": list(self.accepts or (self.label_space,)),
            "shipped": self.shipped,
            "env_var": self.env_var,
            "root_folder": self.root_folder,
            "layout": self.layout,
            "default_limit": self.default_limit,
            "default_eps": {k: list(v) for k, v in self.default_eps.items()},
            "mce_baseline": self.mce_baseline,
            "description": self.description,
            "version": self.version,
            "companions": list(self.companions),
        }

"""The 19 corruptions: name, family, implementation and whether they are random.

Light (no torch import), so that registering and listing them stays cheap.
"""

from __future__ import annotations

from dataclasses import dataclass

from lkadv.metrics import STANDARD_CORRUPTIONS

__all__ = ["CATALOG", "CatalogEntry"]


@dataclass(frozen=True)
class CatalogEntry:
    """One corruption.

    Attributes:
        name: ImageNet-C name.
        category: ``noise``, ``blur``, ``weather``, ``digital`` (the 15) or ``extra`` (the 4).
        module: Module defining the function of the same name.
        random: Whether it draws from the generator.
        scaling: How its 224-px parameters carry to other resolutions: ``native``
            (per-pixel, global or relative) or ``supersampled`` (lengths in pixels).
        description: One line.
    """

    name: str
    category: str
    module: str
    random: bool
    scaling: str
    description: str

    @property
    def standard(self) -> bool:
        """One of the 15 corruptions averaged into mCE."""
        return self.name in STANDARD_CORRUPTIONS

    @property
    def fn(self) -> str:
        """``module:function`` reference."""
        return f"lkadv.corruptions.{self.module}:{self.name}"


_N, _B, _W, _D, _S = "_noise", "_blur", "_weather", "_digital", "_spatter"

CATALOG: tuple[CatalogEntry, ...] = (
    CatalogEntry("gaussian_noise", "noise", _N, True, "native", "additive Gaussian noise"),
    CatalogEntry("shot_noise", "noise", _N, True, "native", "Poisson photon noise"),
    CatalogEntry("impulse_noise", "noise", _N, True, "native", "salt-and-pepper noise"),
    CatalogEntry("defocus_blur", "blur", _B, False, "supersampled", "anti-aliased disk blur"),
    CatalogEntry("glass_blur", "blur", _B, True, "supersampled", "blur, local pixel shuffle, blur"),
    CatalogEntry("motion_blur", "blur", _B, True, "supersampled", "blur along a random direction"),
    CatalogEntry("zoom_blur", "blur", _B, False, "native", "average of centre zooms"),
    CatalogEntry("snow", "weather", _W, True, "supersampled", "motion-blurred flakes over a whitened image"),
    CatalogEntry("frost", "weather", _W, True, "supersampled", "frost photograph blended over the image"),
    CatalogEntry("fog", "weather", _W, True, "supersampled", "plasma-fractal haze"),
    CatalogEntry("brightness", "digital", _D, False, "native", "HSV value shift"),
    CatalogEntry("contrast", "digital", _D, False, "native", "shrink towards the channel mean"),
    CatalogEntry("elastic_transform", "digital", _D, True, "supersampled", "smooth random displacement field"),
    CatalogEntry("pixelate", "digital", _D, False, "native", "box-downsample, nearest-upsample"),
    CatalogEntry("jpeg_compression", "digital", _D, False, "native", "libjpeg at low quality"),
    CatalogEntry("speckle_noise", "extra", _N, True, "native", "multiplicative Gaussian noise"),
    CatalogEntry("gaussian_blur", "extra", _B, False, "supersampled", "Gaussian blur"),
    CatalogEntry("spatter", "extra", _S, True, "supersampled", "water drops or mud"),
    CatalogEntry("saturate", "extra", _D, False, "native", "HSV saturation scale and shift"),
)

"""Names of the benchmarks' parts (import-light: doctor and the plugin read them)."""

from __future__ import annotations

import re

from lkadv.metrics import EXTRA_CORRUPTIONS, STANDARD_CORRUPTIONS

__all__ = ["C_CORRUPTIONS", "IN9_VARIANTS", "P_PERTURBATIONS", "p_folder_parts"]

# ImageNet-C: the 15 corruptions of mCE, then the 4 held-out ones (looked up by name, never position).
C_CORRUPTIONS = STANDARD_CORRUPTIONS + EXTRA_CORRUPTIONS
# ImageNet-P: the 10 perturbations of mFR, then the 4 held-out ones.
P_PERTURBATIONS = (
    "gaussian_noise",
    "shot_noise",
    "motion_blur",
    "zoom_blur",
    "snow",
    "brightness",
    "translate",
    "rotate",
    "tilt",
    "scale",
    "speckle_noise",
    "gaussian_blur",
    "spatter",
    "shear",
)
IN9_VARIANTS = ("original", "mixed_same", "mixed_rand")


def p_folder_parts(folder: str) -> tuple[str, int]:
    """``gaussian_noise_2`` -> (``gaussian_noise``, 2); ``tilt`` -> (``tilt``, 1)."""
    m = re.match(r"^(.*_noise)_([23])$", folder)
    return (m[1], int(m[2])) if m else (folder, 1)

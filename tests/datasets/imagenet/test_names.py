"""The benchmarks' part names, against the lists their authors published."""

from __future__ import annotations

import subprocess
import sys

from lkadv.datasets.imagenet._names import C_CORRUPTIONS

# Hendrycks & Dietterich (2019), the published order of ImageNet-C: 15 corruptions, then the 4 held out.
_PUBLISHED_C = [
    "gaussian_noise",
    "shot_noise",
    "impulse_noise",
    "defocus_blur",
    "glass_blur",
    "motion_blur",
    "zoom_blur",
    "snow",
    "frost",
    "fog",
    "brightness",
    "contrast",
    "elastic_transform",
    "pixelate",
    "jpeg_compression",
    "speckle_noise",
    "gaussian_blur",
    "spatter",
    "saturate",
]


def test_imagenet_c_names_are_the_published_19_in_order():
    assert list(C_CORRUPTIONS) == _PUBLISHED_C


def test_name_lists_stay_import_light():
    code = "import sys, lkadv.datasets.imagenet._names; print('numpy' in sys.modules, 'torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]

"""lkadv-largekernel: RepLKNet, SLaK and UniRepLKNet for lkadv and timm.

The architectures are written from the papers and the published layouts, with
state-dict keys equal to the official checkpoints' so the official files load
with ``strict=True``; each family merges its parallel branches into a single
kernel (structural re-parameterization). Importing this package is cheap: it
imports neither torch nor timm, but registers the models with timm as soon as
timm is imported (or right away if it already is), so that
``timm.create_model('replknet_31b')`` works outside lkadv too.
"""

from typing import TYPE_CHECKING

from lkadv.lazy import lazy_attributes
from lkadv_largekernel._post_import import when_imported

if TYPE_CHECKING:
    from lkadv_largekernel._catalog import ARCHITECTURES, REPARAM_RTOL, WEIGHTS, ArchInfo, Source, WeightsEntry
    from lkadv_largekernel._factory import build, load_official, load_pretrained
    from lkadv_largekernel._replknet import RepLKNet
    from lkadv_largekernel._slak import SLaK
    from lkadv_largekernel._timm import register_timm_models
    from lkadv_largekernel._unireplknet import UniRepLKNet
    from lkadv_largekernel._weights import find_weights, obtain_weights

__version__ = "0.1.0"

__all__ = [
    "ARCHITECTURES",
    "REPARAM_RTOL",
    "WEIGHTS",
    "ArchInfo",
    "RepLKNet",
    "SLaK",
    "Source",
    "UniRepLKNet",
    "WeightsEntry",
    "__version__",
    "build",
    "find_weights",
    "load_official",
    "load_pretrained",
    "obtain_weights",
    "register_timm_models",
]

__getattr__, __dir__ = lazy_attributes(
    __name__,
    {
        "ARCHITECTURES": "lkadv_largekernel._catalog",
        "REPARAM_RTOL": "lkadv_largekernel._catalog",
        "WEIGHTS": "lkadv_largekernel._catalog",
        "ArchInfo": "lkadv_largekernel._catalog",
        "Source": "lkadv_largekernel._catalog",
        "WeightsEntry": "lkadv_largekernel._catalog",
        "build": "lkadv_largekernel._factory",
        "load_official": "lkadv_largekernel._factory",
        "load_pretrained": "lkadv_largekernel._factory",
        "RepLKNet": "lkadv_largekernel._replknet",
        "SLaK": "lkadv_largekernel._slak",
        "UniRepLKNet": "lkadv_largekernel._unireplknet",
        "register_timm_models": "lkadv_largekernel._timm",
        "find_weights": "lkadv_largekernel._weights",
        "obtain_weights": "lkadv_largekernel._weights",
    },
)


def _register_with_timm(_timm: object) -> None:
    from lkadv_largekernel._timm import register_timm_models

    register_timm_models()


when_imported("timm", _register_with_timm)

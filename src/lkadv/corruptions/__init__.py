"""The 19 ImageNet-C corruptions as batched, seeded torch functions.

Each function is ``fn(x, severity, generator) -> x'`` on a float NCHW batch in
[0, 1] with 1 or 3 channels, on the batch's device. Severity parameters are the
224-px ones of ImageNet-C (as packaged by ``imagecorruptions`` 1.1.2); the rule
that carries them to other resolutions is in :mod:`lkadv.corruptions._scale`.
"""

from typing import TYPE_CHECKING

from lkadv.lazy import lazy_attributes

if TYPE_CHECKING:
    from lkadv.corruptions._api import corrupt, get_corruption
    from lkadv.corruptions._catalog import CATALOG, CatalogEntry
    from lkadv.corruptions._contract import OutputRule, output_problem
    from lkadv.corruptions._params import PARAMS
    from lkadv.corruptions._protocol import JPEG_QUALITY, apply_protocol, describe_protocol, protocol_config
    from lkadv.corruptions._scale import REFERENCE_SIDE, render_factor
    from lkadv.corruptions._wrap import CorruptionInputError

__all__ = [
    "CATALOG",
    "PARAMS",
    "REFERENCE_SIDE",
    "CatalogEntry",
    "JPEG_QUALITY",
    "CorruptionInputError",
    "OutputRule",
    "apply_protocol",
    "corrupt",
    "describe_protocol",
    "get_corruption",
    "output_problem",
    "protocol_config",
    "render_factor",
]

__getattr__, __dir__ = lazy_attributes(
    __name__,
    {
        "CATALOG": "lkadv.corruptions._catalog",
        "CatalogEntry": "lkadv.corruptions._catalog",
        "OutputRule": "lkadv.corruptions._contract",
        "output_problem": "lkadv.corruptions._contract",
        "PARAMS": "lkadv.corruptions._params",
        "REFERENCE_SIDE": "lkadv.corruptions._scale",
        "render_factor": "lkadv.corruptions._scale",
        "CorruptionInputError": "lkadv.corruptions._wrap",
        "corrupt": "lkadv.corruptions._api",
        "get_corruption": "lkadv.corruptions._api",
        "JPEG_QUALITY": "lkadv.corruptions._protocol",
        "apply_protocol": "lkadv.corruptions._protocol",
        "describe_protocol": "lkadv.corruptions._protocol",
        "protocol_config": "lkadv.corruptions._protocol",
    },
)

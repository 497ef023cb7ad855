"""How a corrupted image is stored before a model sees it: the corruption protocol.

The published ImageNet-C files were made by truncating each corrupted image to
8 bits (``np.uint8`` of the 0..255 floats) and saving it as a JPEG of quality
85; the AlexNet errors that normalize mCE were measured on those files. A
corruption computed on the fly and handed to a model as floats is therefore a
different measurement. The run chooses one of:

* ``released`` (default): 8-bit truncation, then a JPEG round trip at quality
  85 through Pillow, as the released files were written: the published
  protocol, so a normalized mCE compares with published ones;
* ``uint8``: 8-bit truncation only, what the reference ``imagecorruptions``
  package returns;
* ``float``: the corruption's float output, unquantized.
"""

from __future__ import annotations

import io
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from lkadv.config import CORRUPTION_PROTOCOLS

if TYPE_CHECKING:  # planning and listing stay free of torch and numpy
    import numpy as np
    import torch

__all__ = ["JPEG_QUALITY", "apply_protocol", "describe_protocol", "protocol_config"]

JPEG_QUALITY = 85
"""Quality of the JPEG files of the published ImageNet-C release."""

# A level k/255 computed in float32 can come back as k - 1e-5 after * 255; the
# reference computes on 0..255 floats where it is exactly k. This slack keeps
# an untouched pixel at its level and moves nothing else by a visible amount.
_LEVEL_SLACK = 1e-4

_DESCRIPTIONS = {
    "released": f"released-file emulation: 8-bit truncation, then JPEG quality {JPEG_QUALITY} (Pillow)",
    "uint8": "8-bit truncation (the reference imagecorruptions output), no JPEG",
    "float": "unquantized float images (not the published protocol)",
}


def describe_protocol(protocol: str) -> str:
    """One line naming what the protocol did to the corrupted images."""
    return _DESCRIPTIONS[protocol]


def protocol_config(protocol: str) -> dict[str, Any]:
    """What a corruption threat's identity records about its protocol.

    JPEG codecs are versioned with Pillow, so the released-file protocol carries it.
    """
    if protocol not in CORRUPTION_PROTOCOLS:
        raise ValueError(f"unknown corruption protocol {protocol!r}; expected one of {CORRUPTION_PROTOCOLS}")
    if protocol != "released":
        return {"protocol": protocol}
    import PIL

    return {"protocol": protocol, "jpeg": f"q{JPEG_QUALITY},Pillow-{PIL.__version__}"}


def _truncate(x: torch.Tensor) -> torch.Tensor:
    """8-bit levels as the reference's ``np.uint8``: truncation, not rounding."""
    return (x * 255.0 + _LEVEL_SLACK).floor_().clamp_(0.0, 255.0)


def _jpeg_round_trip(image: np.ndarray) -> np.ndarray:
    import numpy as np
    from PIL import Image

    squeeze = image.shape[-1] == 1
    pil = Image.fromarray(image[..., 0] if squeeze else image)
    buf = io.BytesIO()
    pil.save(buf, format="JPEG", quality=JPEG_QUALITY)
    buf.seek(0)
    with Image.open(buf) as decoded:
        out = np.asarray(decoded.convert(pil.mode))
    return out[..., None] if squeeze else out


def apply_protocol(x: torch.Tensor, protocol: str) -> torch.Tensor:
    """Store a corrupted float batch ``[n, c, h, w]`` in [0, 1] as the protocol says.

    Returns:
        A float batch of the same shape, dtype and device.
    """
    import numpy as np
    import torch

    if protocol == "float":
        return x
    levels = _truncate(x)
    if protocol == "uint8":
        return levels.div_(255.0)
    if protocol != "released":
        raise ValueError(f"unknown corruption protocol {protocol!r}; expected one of {CORRUPTION_PROTOCOLS}")
    images = levels.to(torch.uint8).permute(0, 2, 3, 1).cpu().numpy()
    # Pillow releases the GIL while coding, so threads overlap the images.
    workers = max(1, min(torch.get_num_threads(), len(images) // 16))
    if workers > 1:
        with ThreadPoolExecutor(workers) as pool:
            decoded = list(pool.map(_jpeg_round_trip, images))
    else:
        decoded = [_jpeg_round_trip(im) for im in images]
    out = torch.from_numpy(np.stack(decoded)).permute(0, 3, 1, 2)
    return out.to(device=x.device, dtype=x.dtype).div_(255.0).contiguous()

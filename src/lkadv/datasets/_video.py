"""Video frames through PyAV (FFmpeg's libraries, shipped in PyAV's wheels).

PyAV is chosen over OpenCV (the ImageNet-P reference reader) because its wheels
bundle FFmpeg for every platform, decode straight to RGB numpy arrays, and can
also write the small videos the tests make.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

__all__ = ["count_frames", "read_frames"]


def read_frames(path: Path) -> list[np.ndarray]:
    """Every frame of a video as uint8 RGB ``[H, W, 3]`` arrays, in order.

    Raises:
        av.FFmpegError: If the file cannot be opened or decoded.
    """
    import av

    with av.open(str(path)) as container:
        return [frame.to_ndarray(format="rgb24") for frame in container.decode(video=0)]


def count_frames(path: Path) -> int:
    """Number of frames, from the container's header when it says, else by decoding."""
    import av

    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        if stream.frames:
            return int(stream.frames)
        return sum(1 for _ in container.decode(video=0))

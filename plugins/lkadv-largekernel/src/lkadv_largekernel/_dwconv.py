"""Large depthwise convolutions: plain ``nn.Conv2d``, with an optional fast CUDA path.

The official RepLKNet, SLaK and UniRepLKNet code bases swap in MegEngine's
implicit-GEMM depthwise kernel (the ``depthwise_conv2d_implicit_gemm`` package
built from MegEngine/cutlass), which is much faster than cuDNN for kernels of
13x13 and more. It is a CUDA extension that most installs lack, so here it is
strictly optional: :class:`DepthwiseConv2d` *is* an ``nn.Conv2d`` (same state
dict keys, same result on every device) and only routes its forward pass
through the extension when the extension imports, the input lives on a CUDA
device in fp32/fp16, and the layer has the shape the extension supports.
Set ``LKADV_LK_IMPL=torch`` to never use it.

On the CPU, torch's depthwise convolution is far slower in NCHW than in
channels-last memory format once the kernel is wide (measured with torch 2.15,
2 threads, batch 2: 31x31 on 128x56x56 857 ms vs 115 ms; 51x51 2.9 s vs 0.2 s;
5x51 368 ms vs 66 ms; but 13x13 66 ms vs 79 ms and 5x5 42 ms vs 45 ms), so wide
kernels run channels-last there and hand back the input's memory format.
"""

from __future__ import annotations

import functools
import importlib
import os
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["IGEMM_MODULE", "DepthwiseConv2d", "fast_depthwise_impl"]

IGEMM_MODULE = "depthwise_conv2d_implicit_gemm"
# Device types the extension runs on (a module-level constant so tests can exercise the dispatch on CPU).
_FAST_DEVICES = frozenset({"cuda"})
_FAST_DTYPES = (torch.float32, torch.float16)
# Kernel width from which the CPU path runs channels-last (the measurements above cross between 13 and 27).
_CPU_CHANNELS_LAST_MIN_WIDTH = 21


@functools.cache
def fast_depthwise_impl() -> Any | None:
    """The extension's ``DepthWiseConv2dImplicitGEMM`` class, or None when absent or disabled.

    Returns:
        The class (its ``forward`` is borrowed by :class:`DepthwiseConv2d`), or None.
    """
    if os.environ.get("LKADV_LK_IMPL", "auto").strip().lower() == "torch":
        return None
    try:
        module = importlib.import_module(IGEMM_MODULE)
    except Exception:  # ImportError, or a compiled extension that fails to load: use torch
        return None
    return getattr(module, "DepthWiseConv2dImplicitGEMM", None)


class DepthwiseConv2d(nn.Conv2d):
    """A depthwise, same-padded ``nn.Conv2d`` that may use the implicit-GEMM kernel on CUDA.

    Args:
        channels: Input and output channels (one group per channel).
        kernel: Kernel size ``(kh, kw)`` (both odd).
        bias: Whether the convolution has a bias.
        dilation: Dilation (the fast path needs 1).
        device: Where to allocate the parameters.
        dtype: Parameter dtype.
    """

    def __init__(
        self,
        channels: int,
        kernel: tuple[int, int],
        *,
        bias: bool = False,
        dilation: int = 1,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        kh, kw = kernel
        super().__init__(
            channels,
            channels,
            (kh, kw),
            stride=1,
            padding=(dilation * (kh - 1) // 2, dilation * (kw - 1) // 2),
            dilation=dilation,
            groups=channels,
            bias=bias,
            device=device,
            dtype=dtype,
        )
        # The extension computes square, stride-1, undilated "same" depthwise convolutions only.
        self._fast_shape = kh == kw and kh > 5 and dilation == 1
        self._cpu_channels_last = kw >= _CPU_CHANNELS_LAST_MIN_WIDTH

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        impl = fast_depthwise_impl() if self._fast_shape and x.device.type in _FAST_DEVICES else None
        if impl is not None and x.dtype in _FAST_DTYPES:
            # The extension's forward only reads self.weight and self.bias, which this module has.
            return impl.forward(self, x)
        if self._cpu_channels_last and x.device.type == "cpu":
            cl = torch.channels_last
            weight = self.weight.contiguous(memory_format=cl)
            out = F.conv2d(
                x.contiguous(memory_format=cl), weight, self.bias, self.stride, self.padding, self.dilation, self.groups
            )
            # Hand back the caller's layout (a network run channels-last stays channels-last).
            return out if x.is_contiguous(memory_format=cl) else out.contiguous()
        return super().forward(x)

"""Turning a ModelSpec into a checked Classifier."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from lkadv.errors import ModelContractError
from lkadv.models._classifier import Classifier
from lkadv.specs import ModelSpec
from lkadv.types import Precision, resolve

__all__ = ["BuildReport", "build_classifier", "reparameterize"]


@dataclass(frozen=True)
class BuildReport:
    """Facts about how a classifier was built, recorded with results.

    Attributes:
        merged: Whether structural re-parameterization ran.
        reparam_rel_err: ``max|merged - unmerged| / max|unmerged|`` on the probe batch.
        reparam_rtol: The tolerance it was checked against.
    """

    merged: bool
    reparam_rel_err: float | None
    reparam_rtol: float


def reparameterize(network: nn.Module) -> bool:
    """Merge re-parameterizable branches in place.

    Calls ``network.reparameterize()`` if the root has it; otherwise the same
    method on each topmost submodule that has one (the convention of timm's
    RepVGG/MobileOne blocks and of lkadv's large-kernel plugins).

    Returns:
        Whether anything was merged.
    """
    merge = getattr(network, "reparameterize", None)
    if callable(merge):
        merge()
        return True
    merged = False
    stack = list(network.children())
    while stack:
        module = stack.pop()
        merge = getattr(module, "reparameterize", None)
        if callable(merge):
            merge()
            merged = True
        else:
            stack.extend(module.children())
    return merged


def _has_reparam(network: nn.Module) -> bool:
    return any(callable(getattr(m, "reparameterize", None)) for m in network.modules())


def _merge(
    spec: ModelSpec, network: nn.Module, reference: Classifier, device: torch.device | str
) -> tuple[bool, float]:
    """Re-parameterize ``network`` in place; returns (merged, relative logit change on a probe batch).

    Raises:
        ModelContractError: If merging changed the logits beyond ``spec.reparam_rtol``.
    """
    probe = torch.rand((4, *spec.input_size), generator=torch.Generator().manual_seed(0)).to(device)
    with torch.inference_mode():
        before = reference(probe)
    merged = reparameterize(network)
    network.eval()
    for p in network.parameters():
        p.requires_grad_(False)
    with torch.inference_mode():
        after = reference(probe)
    scale = before.abs().max().clamp_min(1e-12)
    rel_err = float((after - before).abs().max() / scale)
    if not rel_err <= spec.reparam_rtol:
        raise ModelContractError(
            f"model {spec.name!r}: re-parameterized logits differ from the unmerged ones by "
            f"{rel_err:.3g} of the logit scale (tolerance {spec.reparam_rtol:g}); the merge is wrong"
        )
    return merged, rel_err


def build_classifier(
    spec: ModelSpec,
    *,
    device: torch.device | str = "cpu",
    precision: Precision = "fp32",
    merge: bool = True,
    network: nn.Module | None = None,
    channels_last: bool = True,
) -> tuple[Classifier, BuildReport]:
    """Build, wrap and (if possible) merge a model, checking the merge.

    The logits of a fixed probe batch are computed before and after structural
    re-parameterization; if they differ by more than ``spec.reparam_rtol``
    relative to the largest logit, the build fails.

    Args:
        spec: The model spec.
        device: Where to put the model.
        precision: Autocast precision of the forward pass.
        merge: Whether to re-parameterize.
        network: A prebuilt network (skips the factory).
        channels_last: Run in channels-last memory format (after merging).

    Returns:
        The classifier and a report of the merge.

    Raises:
        ModelContractError: If merging changed the logits beyond tolerance.
    """
    if network is None:
        factory = resolve(spec.factory)
        network = factory(**spec.factory_kwargs)
    if not isinstance(network, nn.Module):
        raise ModelContractError(f"factory of model {spec.name!r} returned {type(network).__name__}, not nn.Module")
    network = network.to(device).eval()
    clf = Classifier(
        network, mean=spec.mean, std=spec.std, num_classes=spec.num_classes, precision=precision, name=spec.name
    ).to(device)
    reference = clf if precision == "fp32" else clf.with_precision("fp32")
    merged, rel_err = _merge(spec, network, reference, device) if merge and _has_reparam(network) else (False, None)
    if channels_last:
        clf.channels_last = True
        network.to(memory_format=torch.channels_last)
    return clf, BuildReport(merged, rel_err, spec.reparam_rtol)

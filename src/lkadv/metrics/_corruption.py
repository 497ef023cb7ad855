"""Corruption metrics: CE, mCE, relative mCE, unnormalized mean errors, severity curves.

Pure functions over error rates (fractions in [0, 1]) given as
``{corruption name: {severity: error}}``. Baseline constants are looked up by
corruption name, never by position (a classic source of wrong mCE figures).

Definitions (Hendrycks & Dietterich 2019):

* ``CE_c = sum_s E_{s,c} / sum_s E^base_{s,c}``;
* ``mCE`` = the mean of ``CE_c`` over the 15 standard corruptions;
* relative ``CE_c = sum_s (E_{s,c} - E_clean) / sum_s (E^base_{s,c} - E^base_clean)``,
  relative mCE its mean over the 15;
* unnormalized mean error = the plain mean of ``E_{s,c}`` over corruptions and
  severities (over the 15, or over all 19);
* mean corruption accuracy = 1 - the unnormalized mean error.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

__all__ = [
    "ALEXNET_CLEAN_ERROR",
    "ALEXNET_ERRORS",
    "EXTRA_CORRUPTIONS",
    "STANDARD_CORRUPTIONS",
    "Errors",
    "alexnet_baseline",
    "corruption_error",
    "mean_ce",
    "mean_corruption_accuracy",
    "mean_error",
    "relative_corruption_error",
    "relative_mean_ce",
    "severity_curve",
]

Errors = Mapping[str, Mapping[int, float]]

EXTRA_CORRUPTIONS: tuple[str, ...] = ("speckle_noise", "gaussian_blur", "spatter", "saturate")

# AlexNet's ImageNet-C error per corruption, averaged over the 5 severities
# (shared/reference/lkrobust.md; Hendrycks & Dietterich 2019). By name only.
ALEXNET_ERRORS: Mapping[str, float] = {
    "gaussian_noise": 0.886428,
    "shot_noise": 0.894468,
    "impulse_noise": 0.922640,
    "defocus_blur": 0.819880,
    "glass_blur": 0.826268,
    "motion_blur": 0.785948,
    "zoom_blur": 0.798360,
    "snow": 0.866816,
    "frost": 0.826572,
    "fog": 0.819324,
    "brightness": 0.564592,
    "contrast": 0.853204,
    "elastic_transform": 0.646056,
    "pixelate": 0.717840,
    "jpeg_compression": 0.606500,
}
# The 15 corruptions averaged into mCE are the ones AlexNet's errors were published for, in their order.
STANDARD_CORRUPTIONS: tuple[str, ...] = tuple(ALEXNET_ERRORS)
# torchvision's AlexNet (IMAGENET1K_V1) top-1 accuracy is 56.522%: the clean error of relative mCE.
ALEXNET_CLEAN_ERROR = 1 - 0.56522


def alexnet_baseline(names: Iterable[str], severities: Iterable[int] = (1, 2, 3, 4, 5)) -> dict[str, dict[int, float]]:
    """AlexNet's errors in the shape of :data:`Errors` (its per-corruption mean at every severity).

    Only the ratio of sums enters CE, so a constant per severity equal to the
    published mean gives the published normalization.

    Raises:
        KeyError: For a corruption without an AlexNet constant (the 4 extra ones).
    """
    sevs = tuple(severities)
    return {name: dict.fromkeys(sevs, ALEXNET_ERRORS[name]) for name in names}


def _sum(errors: Errors, name: str, severities: Iterable[int]) -> float:
    table = errors.get(name)
    if table is None:
        raise KeyError(f"no errors for corruption {name!r}")
    missing = [s for s in severities if s not in table]
    if missing:
        raise KeyError(f"corruption {name!r} has no error at severities {missing}")
    return math.fsum(table[s] for s in severities)


def corruption_error(errors: Errors, baseline: Errors, name: str) -> float:
    """``CE_c``: the model's summed error over the baseline's, on the model's severities.

    Raises:
        KeyError: If either side lacks the corruption or a severity.
        ZeroDivisionError: If the baseline never errs on it.
    """
    sevs = sorted(errors[name])
    return _sum(errors, name, sevs) / _sum(baseline, name, sevs)


def relative_corruption_error(
    errors: Errors, clean_error: float, baseline: Errors, baseline_clean_error: float, name: str
) -> float:
    """Relative ``CE_c``: error growth over clean, relative to the baseline's growth."""
    sevs = sorted(errors[name])
    own = _sum(errors, name, sevs) - len(sevs) * clean_error
    base = _sum(baseline, name, sevs) - len(sevs) * baseline_clean_error
    return own / base


def mean_ce(errors: Errors, baseline: Errors, names: Iterable[str] = STANDARD_CORRUPTIONS) -> float:
    """mCE: the mean CE over ``names`` (the 15 standard corruptions by default)."""
    values = [corruption_error(errors, baseline, n) for n in names]
    return math.fsum(values) / len(values)


def relative_mean_ce(
    errors: Errors,
    clean_error: float,
    baseline: Errors,
    baseline_clean_error: float,
    names: Iterable[str] = STANDARD_CORRUPTIONS,
) -> float:
    """Relative mCE over ``names``."""
    values = [relative_corruption_error(errors, clean_error, baseline, baseline_clean_error, n) for n in names]
    return math.fsum(values) / len(values)


def mean_error(errors: Errors, names: Iterable[str]) -> float:
    """Unnormalized mean error over corruptions ``names`` and all their severities."""
    values = [e for n in names for e in errors[n].values()]
    if not values:
        raise ValueError("no errors to average")
    return math.fsum(values) / len(values)


def mean_corruption_accuracy(errors: Errors, names: Iterable[str]) -> float:
    """Mean accuracy over corruptions ``names`` and severities (1 - :func:`mean_error`)."""
    return 1.0 - mean_error(errors, names)


def severity_curve(errors: Errors, names: Iterable[str]) -> dict[int, float]:
    """Mean error at each severity over ``names`` (severities present for every name)."""
    names = list(names)
    common = set.intersection(*(set(errors[n]) for n in names)) if names else set()
    return {s: math.fsum(errors[n][s] for n in names) / len(names) for s in sorted(common)}

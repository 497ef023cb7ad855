"""Metrics: pure functions over per-sample outcomes, run summaries and the benchmarks table."""

from lkadv.metrics._accuracy import Estimate, accuracy, wilson_interval
from lkadv.metrics._benchmarks import benchmark_table
from lkadv.metrics._corruption import (
    ALEXNET_CLEAN_ERROR,
    ALEXNET_ERRORS,
    EXTRA_CORRUPTIONS,
    STANDARD_CORRUPTIONS,
    alexnet_baseline,
    corruption_error,
    mean_ce,
    mean_corruption_accuracy,
    mean_error,
    relative_corruption_error,
    relative_mean_ce,
    severity_curve,
)
from lkadv.metrics._summary import CellResult, ReportSection, Summary, summarize

__all__ = [
    "ALEXNET_CLEAN_ERROR",
    "ALEXNET_ERRORS",
    "EXTRA_CORRUPTIONS",
    "STANDARD_CORRUPTIONS",
    "CellResult",
    "Estimate",
    "ReportSection",
    "Summary",
    "accuracy",
    "alexnet_baseline",
    "benchmark_table",
    "corruption_error",
    "mean_ce",
    "mean_corruption_accuracy",
    "mean_error",
    "relative_corruption_error",
    "relative_mean_ce",
    "severity_curve",
    "summarize",
    "wilson_interval",
]

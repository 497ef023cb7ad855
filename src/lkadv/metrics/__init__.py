"""Metrics: pure functions over per-sample outcomes, run summaries and the benchmarks table."""

from lkadv.metrics._accuracy import Estimate, accuracy, wilson_interval
from lkadv.metrics._benchmarks import benchmark_table
from lkadv.metrics._summary import CellResult, ReportSection, Summary, summarize

__all__ = [
    "CellResult",
    "Estimate",
    "ReportSection",
    "Summary",
    "accuracy",
    "benchmark_table",
    "summarize",
    "wilson_interval",
]

"""Metrics: pure functions over per-sample outcomes, and run summaries."""

from lkadv.metrics._accuracy import Estimate, accuracy, wilson_interval
from lkadv.metrics._summary import CellResult, ReportSection, Summary, summarize

__all__ = ["CellResult", "Estimate", "ReportSection", "Summary", "accuracy", "summarize", "wilson_interval"]

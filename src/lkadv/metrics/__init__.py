"""Metrics: pure functions over per-sample outcomes, and run summaries."""

from lkadv.metrics._accuracy import Estimate, accuracy, wilson_interval
from lkadv.metrics._summary import CellResult, Summary, summarize

__all__ = ["CellResult", "Estimate", "Summary", "accuracy", "summarize", "wilson_interval"]

"""Metrics: pure functions over per-sample outcomes, run summaries and the benchmarks table.

Attributes load on first use (numpy comes with most of them), so that import-light
modules such as the benchmark name lists can share the corruption names.
"""

from typing import TYPE_CHECKING

from lkadv.lazy import lazy_attributes

if TYPE_CHECKING:
    from lkadv.metrics._accuracy import (
        Estimate,
        accuracy,
        wilson_interval,
    )
    from lkadv.metrics._benchmarks import (
        benchmark_table,
    )
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
    from lkadv.metrics._paired import PairedTest, mcnemar_exact, paired_test
    from lkadv.metrics._summary import (
        CellResult,
        ReportSection,
        Summary,
        summarize,
    )
    from lkadv.metrics._transfer import TransferEntry, transfer_entries, transfer_sections

__all__ = [
    "ALEXNET_CLEAN_ERROR",
    "ALEXNET_ERRORS",
    "EXTRA_CORRUPTIONS",
    "STANDARD_CORRUPTIONS",
    "CellResult",
    "Estimate",
    "PairedTest",
    "ReportSection",
    "Summary",
    "TransferEntry",
    "accuracy",
    "alexnet_baseline",
    "benchmark_table",
    "corruption_error",
    "mean_ce",
    "mean_corruption_accuracy",
    "mcnemar_exact",
    "mean_error",
    "paired_test",
    "relative_corruption_error",
    "relative_mean_ce",
    "severity_curve",
    "summarize",
    "transfer_entries",
    "transfer_sections",
    "wilson_interval",
]

__getattr__, __dir__ = lazy_attributes(
    __name__,
    {
        "Estimate": "lkadv.metrics._accuracy",
        "accuracy": "lkadv.metrics._accuracy",
        "wilson_interval": "lkadv.metrics._accuracy",
        "benchmark_table": "lkadv.metrics._benchmarks",
        "ALEXNET_CLEAN_ERROR": "lkadv.metrics._corruption",
        "ALEXNET_ERRORS": "lkadv.metrics._corruption",
        "EXTRA_CORRUPTIONS": "lkadv.metrics._corruption",
        "STANDARD_CORRUPTIONS": "lkadv.metrics._corruption",
        "alexnet_baseline": "lkadv.metrics._corruption",
        "corruption_error": "lkadv.metrics._corruption",
        "mean_ce": "lkadv.metrics._corruption",
        "mean_corruption_accuracy": "lkadv.metrics._corruption",
        "mean_error": "lkadv.metrics._corruption",
        "relative_corruption_error": "lkadv.metrics._corruption",
        "relative_mean_ce": "lkadv.metrics._corruption",
        "severity_curve": "lkadv.metrics._corruption",
        "PairedTest": "lkadv.metrics._paired",
        "mcnemar_exact": "lkadv.metrics._paired",
        "paired_test": "lkadv.metrics._paired",
        "CellResult": "lkadv.metrics._summary",
        "ReportSection": "lkadv.metrics._summary",
        "Summary": "lkadv.metrics._summary",
        "summarize": "lkadv.metrics._summary",
        "TransferEntry": "lkadv.metrics._transfer",
        "transfer_entries": "lkadv.metrics._transfer",
        "transfer_sections": "lkadv.metrics._transfer",
    },
)

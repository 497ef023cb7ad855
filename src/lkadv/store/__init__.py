"""The store: the run ledger (SQLite) and exports from it."""

from lkadv.store._examples import EXAMPLES_DIR, ExampleSet, ExampleStore, cell_examples_key, quantize_uint8
from lkadv.store._ledger import Ledger
from lkadv.store._provenance import git_commit, package_versions, provenance
from lkadv.store._samples import SAMPLE_COLUMNS, sample_rows
from lkadv.store._schema import LEDGER_FILE, SCHEMA_VERSION, CellRow

__all__ = [
    "EXAMPLES_DIR",
    "LEDGER_FILE",
    "SAMPLE_COLUMNS",
    "SCHEMA_VERSION",
    "CellRow",
    "ExampleSet",
    "ExampleStore",
    "Ledger",
    "cell_examples_key",
    "git_commit",
    "package_versions",
    "provenance",
    "quantize_uint8",
    "sample_rows",
]

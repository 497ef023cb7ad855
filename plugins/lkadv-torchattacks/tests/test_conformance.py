"""lkadv's conformance kit on this plugin (runs once ``lkadv.testing`` is installed with lkadv)."""

from typing import Any, ClassVar

import pytest

testing = pytest.importorskip("lkadv.testing", reason="lkadv.testing (the conformance kit) is not in this lkadv")
pytest.importorskip("torchattacks", reason="pip install --no-deps torchattacks==3.5.1")

from tests_support import FAST  # noqa: E402


class TestConformance(testing.PluginConformance):
    plugin = "torchattacks"
    # The kit's tiny classifier has 10 classes; keep every attack to a few steps.
    attack_params: ClassVar[dict[str, Any]] = {
        **FAST,
        "ta-apgdt": {"steps": 3},
        "ta-fab": {"steps": 3},
        "ta-autoattack": {},
    }
    # torchattacks' AutoAttack has no speed settings: at the kit's smallest radius Square spends its
    # 5,000 queries on every robust sample (about a minute per contract). tests/test_plugin.py checks
    # the same contracts for it at a radius where APGD breaks every sample.
    skip_contracts: ClassVar[dict[str, str]] = {
        f"ta-autoattack:{contract}": "slow here; checked in tests/test_plugin.py"
        for contract in ("attack.output", "attack.range", "attack.norm-bound", "attack.determinism")
    }

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

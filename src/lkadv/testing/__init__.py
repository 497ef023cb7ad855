"""The conformance kit for plugin authors (also a pytest plugin: fixtures ``lkadv_*``).

Check functions take a spec as a plugin registers it and verify the contracts
of models, attacks, corruptions and datasets on tiny inputs, offline. A broken
contract raises :class:`ContractViolation`, whose message starts with the
contract's name (a key of :data:`CONTRACTS`). See docs/plugins.md.
"""

from typing import TYPE_CHECKING

from lkadv.lazy import lazy_attributes

if TYPE_CHECKING:
    from lkadv.testing._analyses import check_analysis
    from lkadv.testing._attacks import check_attack
    from lkadv.testing._conformance import PluginConformance
    from lkadv.testing._contracts import CONTRACTS
    from lkadv.testing._corruptions import check_corruption
    from lkadv.testing._datasets import check_dataset
    from lkadv.testing._errors import ContractSkipped, ContractViolation
    from lkadv.testing._inputs import tiny_classifier, tiny_images
    from lkadv.testing._models import check_model
    from lkadv.testing._plugin import LoadedPlugin, check_plugin, load_plugin

__all__ = [
    "CONTRACTS",
    "ContractSkipped",
    "ContractViolation",
    "LoadedPlugin",
    "PluginConformance",
    "check_analysis",
    "check_attack",
    "check_corruption",
    "check_dataset",
    "check_model",
    "check_plugin",
    "load_plugin",
    "tiny_classifier",
    "tiny_images",
]

__getattr__, __dir__ = lazy_attributes(
    __name__,
    {
        "CONTRACTS": "lkadv.testing._contracts",
        "ContractSkipped": "lkadv.testing._errors",
        "ContractViolation": "lkadv.testing._errors",
        "LoadedPlugin": "lkadv.testing._plugin",
        "PluginConformance": "lkadv.testing._conformance",
        "check_analysis": "lkadv.testing._analyses",
        "check_attack": "lkadv.testing._attacks",
        "check_corruption": "lkadv.testing._corruptions",
        "check_dataset": "lkadv.testing._datasets",
        "check_model": "lkadv.testing._models",
        "check_plugin": "lkadv.testing._plugin",
        "load_plugin": "lkadv.testing._plugin",
        "tiny_classifier": "lkadv.testing._inputs",
        "tiny_images": "lkadv.testing._inputs",
    },
)

"""Every lkadv contract, on everything the plugin registers: one test per spec and contract."""

from lkadv.testing import PluginConformance


class TestConformance(PluginConformance):
    plugin = "example"  # the entry-point name in pyproject.toml
    attack_params = {"example-random-noise": {"draws": 2}}  # fewer draws: same contracts, faster

"""The oracle models as a module plugin (``lkadv -p tests.datasets.imagenet.fakes_plugin``)."""

from lkadv import hookimpl
from tests.datasets.imagenet.fakes import oracle_spec


@hookimpl
def lkadv_register_models(registry):
    registry.register(oracle_spec("oracle"))
    registry.register(oracle_spec("oracle-b"))

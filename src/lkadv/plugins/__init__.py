"""The plugin core: hook specifications and the host that loads plugins."""

from lkadv.plugins._doctor import DoctorCheck
from lkadv.plugins._hookspecs import hookimpl, hookspec
from lkadv.plugins._host import BUILTIN_PLUGINS, ENTRY_POINT_GROUP, PluginHost, PluginInfo

__all__ = [
    "BUILTIN_PLUGINS",
    "ENTRY_POINT_GROUP",
    "DoctorCheck",
    "PluginHost",
    "PluginInfo",
    "hookimpl",
    "hookspec",
]

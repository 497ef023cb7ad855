"""Run options and where they come from (flags, ``LKADV_*`` variables, ``lkadv.toml``)."""

from lkadv.config._options import (
    CORRUPTION_PROTOCOLS,
    DEFAULT_CONFIG_FILE,
    RunOptions,
    load_options,
    parse_bool,
    parse_eps,
    parse_params,
)

__all__ = [
    "CORRUPTION_PROTOCOLS",
    "DEFAULT_CONFIG_FILE",
    "RunOptions",
    "load_options",
    "parse_bool",
    "parse_eps",
    "parse_params",
]

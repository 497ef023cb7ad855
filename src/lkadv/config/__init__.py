"""Settings: run options and every ``LKADV_*`` variable, with where each value came from."""

from lkadv.config._loading import FILE_TABLES, load_options, option_sources, option_variable
from lkadv.config._options import (
    CONFIG_VARIABLE,
    CORRUPTION_PROTOCOLS,
    DEFAULT_CONFIG_FILE,
    RunOptions,
    lkadv_environment,
)
from lkadv.config._parsers import ENV_PREFIX, parse_bool, parse_eps, parse_params
from lkadv.config._settings import (
    CACHE_VARIABLE,
    DATA_ROOT_VARIABLE,
    DISABLE_PLUGINS_VARIABLE,
    LOAD_PLUGINS_VARIABLE,
    OTHER_VARIABLES,
    SettingValue,
    data_variable,
    download_cache,
    env_bool,
    env_names,
    explain_settings,
)
from lkadv.types import PRECISIONS

__all__ = [
    "CACHE_VARIABLE",
    "CONFIG_VARIABLE",
    "CORRUPTION_PROTOCOLS",
    "DATA_ROOT_VARIABLE",
    "DEFAULT_CONFIG_FILE",
    "DISABLE_PLUGINS_VARIABLE",
    "ENV_PREFIX",
    "FILE_TABLES",
    "LOAD_PLUGINS_VARIABLE",
    "OTHER_VARIABLES",
    "PRECISIONS",
    "RunOptions",
    "SettingValue",
    "data_variable",
    "download_cache",
    "env_bool",
    "env_names",
    "explain_settings",
    "lkadv_environment",
    "load_options",
    "option_sources",
    "option_variable",
    "parse_bool",
    "parse_eps",
    "parse_params",
]

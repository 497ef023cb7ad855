"""Loading plugins, each on its own, and filling the registries from them.

pluggy calls every implementation of a hook in one go and stops at the first
exception, which would let one broken plugin hide all the others. The host
therefore imports each entry point separately and calls each plugin's
registration hooks separately, buffering what it registers; a plugin that
fails anywhere is withdrawn as a whole and listed as broken with its error.
"""

from __future__ import annotations

import importlib
import importlib.metadata as md
import logging
import traceback
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pluggy

from lkadv._text import printable
from lkadv._version import __version__
from lkadv.config import DISABLE_PLUGINS_VARIABLE, LOAD_PLUGINS_VARIABLE, env_bool, env_names, option_variable
from lkadv.errors import PluginError, SpecError
from lkadv.plugins import _hookspecs
from lkadv.registries import Registries, Registry

__all__ = ["BUILTIN_PLUGINS", "ENTRY_POINT_GROUP", "PluginHost", "PluginInfo"]

ENTRY_POINT_GROUP = "lkadv"

# Built-in plugins: the same hooks as third-party ones, loaded by module path so
# that they work even from a source tree without installed metadata.
BUILTIN_PLUGINS: Mapping[str, str] = {
    "lkadv.zoo": "lkadv.zoo._plugin",
    "lkadv.timm": "lkadv.models._timm_plugin",
    "lkadv.attacks": "lkadv.attacks._plugin",
    "lkadv.corruptions": "lkadv.corruptions._plugin",
    "lkadv.datasets": "lkadv.datasets._plugin",
    "lkadv.imagenet": "lkadv.datasets.imagenet._plugin",
    "lkadv.executors": "lkadv.executors._plugin",
    "lkadv.reporters": "lkadv.reporters._plugin",
    "lkadv.analyses": "lkadv.analyses._plugin",
}


_log = logging.getLogger("lkadv.plugins")


@dataclass
class PluginInfo:
    """What ``lkadv plugins`` shows about one plugin.

    Attributes:
        name: Entry-point (or built-in) name.
        version: Version of the distribution that provides it.
        source: ``"builtin"``, ``"entry-point"`` or ``"direct"``.
        module: Import path of the plugin object.
        status: ``"ok"``, ``"broken"`` or ``"disabled"``.
        errors: Error messages (import, hook or spec failures; lifecycle hook failures).
        hooks: Hooks it implements.
        registered: Names it registered, by registry kind.
    """

    name: str
    version: str
    source: str
    module: str
    status: str = "ok"
    errors: list[str] = field(default_factory=list)
    hooks: list[str] = field(default_factory=list)
    registered: dict[str, list[str]] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "name": self.name,
            "version": self.version,
            "source": self.source,
            "module": self.module,
            "status": self.status,
            "errors": list(self.errors),
            "hooks": list(self.hooks),
            "registered": {k: list(v) for k, v in self.registered.items()},
        }


class _Recorder:
    """Stands in for a registry during one plugin's hook call and buffers its calls."""

    def __init__(self, target: Registry[Any], plugin: str, kinds: str) -> None:
        self.kind = target.kind
        self.kinds = kinds  # the plural, as the registries table names it
        self._target = target
        self._plugin = plugin
        self.calls: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = []

    def register(self, spec: Any) -> None:
        """Validate now (so the plugin's traceback points at the bad spec), apply later."""
        validate = getattr(spec, "validate", None)
        if validate is None:
            raise SpecError(f"plugin {self._plugin!r}: {self.kind} registry got {type(spec).__name__}, not a spec")
        try:
            validate()
        except SpecError as exc:
            # The spec's message names the spec and the field; the user also needs the plugin.
            raise SpecError(f"plugin {self._plugin!r}: {exc}") from exc
        self.calls.append(("register", (spec,), {}))

    def register_preset(self, name: str, selector: str, description: str = "") -> None:
        """Buffer a preset."""
        self.calls.append(("register_preset", (name, selector), {"description": description}))

    def register_resolver(self, prefix: str, resolver: Any) -> None:
        """Buffer a resolver."""
        self.calls.append(("register_resolver", (prefix, resolver), {}))

    def __getattr__(self, name: str) -> Any:
        # Reading methods (get, names, select...) see the registry as filled so far.
        return getattr(self._target, name)

    def replay(self) -> list[str]:
        """Apply the buffered calls to the real registry; return what was added."""
        added = []
        for method, args, kwargs in self.calls:
            getattr(self._target, method)(*args, provider=self._plugin, **kwargs)
            if method == "register":
                added.append(args[0].name)
            elif method == "register_preset":
                added.append(f"preset:{args[0]}")
            else:
                added.append(f"{args[0]}:*")
        return added


class PluginHost:
    """A pluggy manager plus the registries its plugins fill.

    Args:
        entry_points: Load third-party plugins from the ``lkadv`` entry-point group.
        only: Names of third-party plugins to load (default: ``$LKADV_LOAD_PLUGINS``
            as a comma list, or all when unset). Built-ins are always loaded unless
            disabled.
        disable: Names of plugins not to load, built-ins included (added to
            ``$LKADV_DISABLE_PLUGINS``).
        strict: Turn every plugin error into a :class:`PluginError` (default:
            ``$LKADV_STRICT_PLUGINS``).
        extra: ``(name, plugin object)`` pairs registered directly (tests, embedding).
        builtins: Built-in plugins to load (default: :data:`BUILTIN_PLUGINS`).

    Raises:
        PluginError: In strict mode, if any plugin failed.
    """

    def __init__(
        self,
        *,
        entry_points: bool = True,
        only: Iterable[str] | None = None,
        disable: Iterable[str] = (),
        strict: bool | None = None,
        extra: Sequence[tuple[str, object]] = (),
        builtins: Mapping[str, str] | None = None,
    ) -> None:
        self.pm = pluggy.PluginManager(_hookspecs.PROJECT)
        self.pm.add_hookspecs(_hookspecs)
        self.registries = Registries()
        self.plugins: dict[str, PluginInfo] = {}
        self.strict = env_bool(option_variable("strict_plugins")) if strict is None else strict
        self._only = set(only) if only is not None else env_names(LOAD_PLUGINS_VARIABLE)
        self._disabled = set(disable) | (env_names(DISABLE_PLUGINS_VARIABLE) or set())

        for name, module in (BUILTIN_PLUGINS if builtins is None else builtins).items():
            info = PluginInfo(name, __version__, "builtin", module)
            if self._skip(info, third_party=False):
                continue
            self._add(info, lambda module=module: importlib.import_module(module))
        if entry_points:
            for ep in sorted(md.entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
                if ep.name in self.plugins:
                    continue  # a built-in advertised through metadata too
                version = ep.dist.version if ep.dist is not None else "unknown"
                info = PluginInfo(ep.name, version, "entry-point", ep.value)
                if self._skip(info, third_party=True):
                    continue
                self._add(info, ep.load)
        for name, obj in extra:
            info = PluginInfo(
                name, str(getattr(obj, "__version__", "n/a")), "direct", getattr(obj, "__name__", type(obj).__name__)
            )
            if not self._skip(info, third_party=True):
                self._add(info, lambda obj=obj: obj)

        self._register_all()
        self.unmatched = self._unmatched_names()
        if self.strict:
            broken = [p for p in self.plugins.values() if p.status == "broken"]
            if broken:
                details = "; ".join(f"{p.name}: {p.errors[0]}" for p in broken)
                raise PluginError(f"strict plugin mode: {len(broken)} broken plugin(s): {details}")

    # ----------------------------------------------------------------- loading

    def _unmatched_names(self) -> list[str]:
        """Plugin names asked to be loaded or disabled that match no plugin (typos, stale settings)."""
        out = []
        if self._only is not None:
            for name in sorted(self._only - set(self.plugins)):
                out.append(f"LKADV_LOAD_PLUGINS names {name!r}, which matches no plugin")
        for name in sorted(self._disabled - set(self.plugins)):
            out.append(f"-p no:{name} (or LKADV_DISABLE_PLUGINS) names {name!r}, which matches no plugin")
        return out

    def problems(self) -> list[str]:
        """One line per thing a user should know before trusting a listing or a run.

        Names that match no plugin, and plugins that are broken (with their first error).
        """
        known = ", ".join(sorted(self.plugins)) or "none"
        lines = [f"{line} (plugins: {known})" for line in self.unmatched]
        for info in self.plugins.values():
            if info.status == "broken":
                lines.append(f"plugin {info.name!r} is broken: {info.errors[0]} (`lkadv plugins` for details)")
        return lines

    def _skip(self, info: PluginInfo, *, third_party: bool) -> bool:
        reason = None
        if info.name in self._disabled:
            reason = "disabled (-p no:NAME or LKADV_DISABLE_PLUGINS)"
        elif third_party and self._only is not None and info.name not in self._only:
            reason = "not in LKADV_LOAD_PLUGINS"
        if reason:
            info.status = "disabled"
            info.errors.append(reason)
            self.plugins[info.name] = info
        return reason is not None

    def _add(self, info: PluginInfo, load: Any) -> None:
        self.plugins[info.name] = info
        try:
            obj = load()
            self.pm.register(obj, name=info.name)
        except Exception as exc:  # any failure of third-party code is that plugin's failure
            self._fail(info, f"cannot load: {type(exc).__name__}: {exc}", exc)
            return
        hooks = sorted(h.name for h in self.pm.get_hookcallers(obj) or [])
        unknown = [h for h in hooks if not getattr(self.pm.hook, h).has_spec()]
        info.hooks = [h for h in hooks if h not in unknown]
        if unknown:
            self._fail(info, f"implements unknown hook(s) {unknown}; see `lkadv plugins --hooks`")

    def _fail(self, info: PluginInfo, message: str, exc: BaseException | None = None) -> None:
        info.status = "broken"
        info.errors.append(message)
        if exc is not None:
            _log.debug("plugin %s failed:\n%s", info.name, "".join(traceback.format_exception(exc)))
        plugin = self.pm.get_plugin(info.name)
        if plugin is not None:
            self.pm.unregister(plugin)
        self.registries.withdraw(info.name)
        info.registered = {}

    def _register_all(self) -> None:
        registries = self.registries.all()
        for info in list(self.plugins.values()):
            if info.status != "ok":
                continue
            plugin = self.pm.get_plugin(info.name)
            recorders: list[_Recorder] = []
            try:
                for kinds, registry in registries.items():
                    for impl in getattr(self.pm.hook, f"lkadv_register_{kinds}").get_hookimpls():
                        if impl.plugin is plugin:
                            recorder = _Recorder(registry, info.name, kinds)
                            impl.function(registry=recorder)
                            recorders.append(recorder)
                for recorder in recorders:
                    added = recorder.replay()
                    if added:
                        info.registered.setdefault(recorder.kinds, []).extend(added)
            except Exception as exc:  # a plugin's exception, bad spec or name clash
                where = "registration failed"
                self._fail(info, f"{where}: {type(exc).__name__}: {exc}", exc)

    # --------------------------------------------------------------- lifecycle

    def notify(self, hook_name: str, **kwargs: Any) -> None:
        """Call a lifecycle hook on every plugin, each on its own.

        Args:
            hook_name: ``lkadv_run_started``, ``lkadv_unit_finished`` or ``lkadv_run_finished``.
            **kwargs: The hook's arguments.

        Raises:
            PluginError: In strict mode, when an implementation raises.
        """
        for _ in self._call_each(hook_name, kwargs):
            pass

    def collect(self, hook_name: str, **kwargs: Any) -> list[Any]:
        """Call a hook that returns lists on every plugin, each on its own, and join the lists.

        Args:
            hook_name: The hook (e.g. ``lkadv_report_sections``).
            **kwargs: Its arguments.

        Returns:
            Every item returned, in plugin order.

        Raises:
            PluginError: In strict mode, when an implementation raises.
        """
        return [item for result in self._call_each(hook_name, kwargs) for item in result or []]

    def _call_each(self, hook_name: str, kwargs: dict[str, Any]) -> Iterator[Any]:
        """Each implementation's result, in registration order; one plugin's exception never stops the others.

        An exception is recorded on the plugin and logged (raised as PluginError in strict mode).
        """
        for impl in getattr(self.pm.hook, hook_name).get_hookimpls():  # registration order
            try:
                result = impl.function(**{k: kwargs[k] for k in impl.argnames})
            except Exception as exc:  # isolate plugins from the run and from each other
                message = f"{hook_name} raised {type(exc).__name__}: {exc}"
                info = self.plugins.get(impl.plugin_name)
                if info is not None and message not in info.errors:
                    info.errors.append(message)
                _log.warning("plugin %s: %s", impl.plugin_name, printable(message))
                if self.strict:
                    raise PluginError(f"plugin {impl.plugin_name!r}: {message}") from exc
                continue
            yield result

    def broken(self) -> list[PluginInfo]:
        """Plugins that failed to load or register."""
        return [p for p in self.plugins.values() if p.status == "broken"]

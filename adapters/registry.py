"""Registry of contest sources by platform name: built-in adapters, source families, plugins.

Every source follows the contract of `adapters.source` (a `SOURCE` declaration, `fetch`, `parse`).
- Built-in adapter modules call `register(sys.modules[__name__])` at import time.
- A family of sources made from the settings (clist.by's resources) registers a function that
  answers them (`register_family`); it is asked again whenever the settings change.
- Plugins are packages that name a source in the entry-point group `syncq.sources`
  (`[project.entry-points."syncq.sources"] mysite = "mypackage.source"`); SYNCQ_SOURCE_PLUGINS
  picks which load. A plugin that fails to import or breaks the contract is logged by name and
  kept in `plugin_errors()` (shown by `/health`); the others load as if it were not there.

A source is listed (and found by `get`) while it is enabled: a declared `setting` must be true.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable, Iterable
from importlib.metadata import EntryPoint, entry_points
from types import ModuleType
from typing import Any

from adapters.source import ContractError, Source, check
from core.settings import Settings, get_settings

log = logging.getLogger(__name__)
GROUP = "syncq.sources"

_ADAPTERS: dict[str, Any] = {}
_BUILTIN = (
    "adapters.codeforces",
    "adapters.leetcode",
    "adapters.codechef",
    "adapters.atcoder",
    "adapters.codeforces_gym",
)
_FAMILIES = ("adapters.clist",)
_loaded = False
_families: list[Callable[[Settings], list[Any]]] = []
_family_cache: tuple[Settings, dict[str, Any]] | None = None
_plugins: dict[str, Any] | None = None
_plugin_errors: dict[str, str] = {}


def declaration(source: Any) -> Source:
    """A source's declaration; one registered before the contract (only `NAME`) gets a plain one."""
    declared = getattr(source, "SOURCE", None)
    if isinstance(declared, Source):
        return declared
    return Source(name=source.NAME, host=getattr(source, "HOST", source.NAME))


def register(module: ModuleType | Any) -> Any:
    """Register a built-in source under its declared name (ContractError when it breaks the contract)."""
    declared = check(module)
    _ADAPTERS[declared.name] = module
    return module


def register_family(answer: Callable[[Settings], list[Any]]) -> None:
    """Register a function answering the sources the settings make (each following the contract)."""
    global _family_cache
    _families.append(answer)
    _family_cache = None


def _load_builtin() -> None:
    global _loaded
    if not _loaded:
        for name in (*_BUILTIN, *_FAMILIES):
            importlib.import_module(name)
        _loaded = True


def _family_sources(settings: Settings) -> dict[str, Any]:
    global _family_cache
    if _family_cache is None or _family_cache[0] is not settings:
        found: dict[str, Any] = {}
        for answer in _families:
            for source in answer(settings):
                found.setdefault(check(source).name, source)
        _family_cache = (settings, found)
    return _family_cache[1]


def _entry_points() -> Iterable[EntryPoint]:
    return entry_points(group=GROUP)


def _load_plugin(point: EntryPoint, taken: set[str]) -> Any:
    source = point.load()
    declared = check(source)
    if declared.name in taken:
        raise ContractError(f"its name {declared.name!r} is taken by another source")
    return source


def load_plugins(reload: bool = False) -> dict[str, Any]:
    """Every installed plugin source by name, loaded once per process; a broken one is logged and
    kept in `plugin_errors()`, never raised."""
    global _plugins
    if _plugins is not None and not reload:
        return _plugins
    _load_builtin()
    plugins: dict[str, Any] = {}
    _plugin_errors.clear()
    taken = set(_ADAPTERS)
    for point in sorted(_entry_points(), key=lambda p: p.name):
        try:
            source = _load_plugin(point, taken | set(plugins))
        except Exception as exc:  # any failure of someone else's package: that plugin only
            reason = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
            _plugin_errors[point.name] = f"plugin {point.name} ({point.value}) not loaded: {reason}"
            log.error("source plugin %s not loaded: %s", point.name, reason)
            continue
        plugins[declaration(source).name] = source
        log.info("source plugin %s loaded (%s)", point.name, point.value)
    _plugins = plugins
    return plugins


def plugin_errors() -> dict[str, str]:
    """Plugins that could not be loaded, by entry-point name, with the reason."""
    _selected_plugins(get_settings())
    return dict(_plugin_errors)


def _wanted(settings: Settings, name: str) -> bool:
    chosen = settings.source_plugins
    return "*" in chosen or name in chosen


def _selected_plugins(settings: Settings) -> dict[str, Any]:
    if not settings.source_plugins or settings.source_plugins == ("none",):
        return {}
    return {name: source for name, source in load_plugins().items() if _wanted(settings, name)}


def _enabled(source: Any, settings: Settings) -> bool:
    setting = declaration(source).setting or getattr(source, "SETTING", None)
    return setting is None or bool(getattr(settings, setting, False))


def _all(settings: Settings) -> dict[str, Any]:
    _load_builtin()
    found = dict(_ADAPTERS)
    for group in (_family_sources(settings), _selected_plugins(settings)):
        for name, source in group.items():
            found.setdefault(name, source)
    return found


def names() -> list[str]:
    """Enabled platform names: the built-in ones in their fixed order, then any others."""
    settings = get_settings()
    found = _all(settings)
    builtin = [module.rsplit(".", 1)[1] for module in _BUILTIN]
    ordered = [n for n in builtin if n in found] + [n for n in found if n not in builtin]
    return [n for n in ordered if _enabled(found[n], settings)]


def get(name: str) -> Any:
    """The source for `name`; KeyError when no such platform is registered and enabled."""
    settings = get_settings()
    source = _all(settings)[name]
    if not _enabled(source, settings):
        raise KeyError(name)
    return source


def describe(name: str) -> dict[str, Any]:
    """What `/platforms` shows of a source's declaration (its host, zone, credentials, limit...)."""
    return declaration(get(name)).describe()


def builtin_names() -> list[str]:
    """The names of the built-in sources, enabled or not."""
    return list(_ADAPTERS)


def builtin_hosts() -> set[str]:
    """The hosts the built-in sources read (another source must not import them twice)."""
    return {declaration(source).host.lower().removeprefix("www.") for source in _ADAPTERS.values()}


def report_at_start() -> list[str]:
    """Load every source now and log what was found, naming each plugin that could not load (a
    process calls this as it starts); returns the enabled platform names."""
    found = names()
    log.info("contest sources: %s", ", ".join(found))
    for error in plugin_errors().values():
        log.error("%s", error)
    return found


def is_plugin(name: str) -> bool:
    """True when platform `name` comes from an installed plugin (not built in, not a family's)."""
    return name not in _ADAPTERS and name in (_plugins or {})

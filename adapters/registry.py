"""Registry of contest adapters by platform name (the Redash query-runner pattern).

An adapter module defines `NAME`, `fetch(client, settings)` and `parse(payload, now=None)`,
and calls `register(sys.modules[__name__])` at import time. An adapter whose `WANTS_KNOWN` is
true takes `fetch(client, settings, known=...)`: the platformIds already stored, where its
paging stops. An opt-in adapter names a boolean setting in `SETTING`: it is listed (and
found by `get`) only while that setting is true.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from core.settings import get_settings

_ADAPTERS: dict[str, ModuleType] = {}
_BUILTIN = (
    "adapters.codeforces",
    "adapters.leetcode",
    "adapters.codechef",
    "adapters.atcoder",
    "adapters.codeforces_gym",
)
_loaded = False


def register(module: ModuleType) -> ModuleType:
    """Register a contest adapter module under its `NAME`."""
    for attr in ("NAME", "fetch", "parse"):
        if not hasattr(module, attr):
            raise TypeError(f"adapter {module.__name__} has no {attr}")
    _ADAPTERS[module.NAME] = module
    return module


def _load_builtin() -> None:
    global _loaded
    if not _loaded:
        for name in _BUILTIN:
            importlib.import_module(name)
        _loaded = True


def _enabled(module: ModuleType) -> bool:
    setting = getattr(module, "SETTING", None)
    return setting is None or bool(getattr(get_settings(), setting, False))


def names() -> list[str]:
    """Enabled platform names: the built-in ones in their fixed order, then any others."""
    _load_builtin()
    builtin = [module.rsplit(".", 1)[1] for module in _BUILTIN]
    ordered = [n for n in builtin if n in _ADAPTERS] + [n for n in _ADAPTERS if n not in builtin]
    return [n for n in ordered if _enabled(_ADAPTERS[n])]


def get(name: str) -> ModuleType:
    """The adapter for `name`; KeyError when no such platform is registered and enabled."""
    _load_builtin()
    module = _ADAPTERS[name]
    if not _enabled(module):
        raise KeyError(name)
    return module

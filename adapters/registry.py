"""Registry of contest adapters by platform name (the Redash query-runner pattern).

An adapter module defines `NAME`, `fetch(client, settings)` and `parse(payload, now=None)`,
and calls `register(sys.modules[__name__])` at import time.
"""

from __future__ import annotations

import importlib
from types import ModuleType

_ADAPTERS: dict[str, ModuleType] = {}
_BUILTIN = ("adapters.codeforces", "adapters.leetcode", "adapters.codechef", "adapters.atcoder")
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


def names() -> list[str]:
    """Registered platform names: the built-in ones in their fixed order, then any others."""
    _load_builtin()
    builtin = [module.rsplit(".", 1)[1] for module in _BUILTIN]
    return [n for n in builtin if n in _ADAPTERS] + [n for n in _ADAPTERS if n not in builtin]


def get(name: str) -> ModuleType:
    """The adapter for `name`; KeyError when no such platform is registered."""
    _load_builtin()
    return _ADAPTERS[name]

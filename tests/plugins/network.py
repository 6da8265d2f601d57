"""The network guard: no test may reach the internet.

A name that is not loopback fails at once, in this process and in the worker threads it runs
(subprocesses get local service URLs from their tests). Installed when the plugin is loaded.
"""

from __future__ import annotations

import socket

_real_getaddrinfo = socket.getaddrinfo


def _loopback_only(host, *args, **kwargs):
    name = host.decode() if isinstance(host, bytes) else host
    if name not in (None, "localhost", "::1", "0.0.0.0") and not str(name).startswith("127."):
        raise socket.gaierror(socket.EAI_NONAME, f"tests may not reach the internet (asked for {name})")
    return _real_getaddrinfo(host, *args, **kwargs)


socket.getaddrinfo = _loopback_only

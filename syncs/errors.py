"""Why a sync failed, in words an operator can act on."""

from __future__ import annotations

from typing import Any


class SyncFailed(Exception):
    """A sync could not be done. `code` says which failure it is (the API maps it to a status),
    `details` what the caller may show beside the message."""

    user_message = True

    def __init__(self, message: str, *, code: str = "sync_failed", details: dict[str, Any] | None = None):
        super().__init__(message)
        self.code = code
        self.details = details

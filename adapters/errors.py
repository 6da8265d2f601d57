"""One error root for everything that talks to an outside service.

`TransientError` means "the same call may work later" (network trouble, 5xx, 429,
Codeforces' call limit) and is the only thing the shared retry policy retries.
`PermanentError` means "asking again will not help" (other 4xx, a FAILED envelope,
a payload that does not parse) and fails at once.
"""

from __future__ import annotations


class SyncError(Exception):
    """Root of every error an adapter raises; `message` is safe to show to a user."""

    def __init__(self, message: str, *, service: str | None = None, status: int | None = None):
        super().__init__(message)
        self.message = message
        self.service = service
        self.status = status

    def __str__(self) -> str:  # the message alone, prefixed with the service when known
        return f"{self.service}: {self.message}" if self.service else self.message


class TransientError(SyncError):
    """A failure that may go away if the call is made again later."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kw):
        super().__init__(message, **kw)
        # Seconds the service asked us to wait (429 Retry-After); None when it did not say.
        self.retry_after = retry_after


class PermanentError(SyncError):
    """A failure that the same call will hit again: never retried."""


class ParseError(PermanentError):
    """The service answered, but not with the data we expect (HTML, truncated JSON, wrong shape)."""

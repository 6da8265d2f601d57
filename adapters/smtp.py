"""Sending email through the SMTP server `SYNCQ_SMTP_URL` names (stdlib smtplib).

`smtp://user:pass@host:587?starttls=true` (plain SMTP, upgraded with STARTTLS when asked),
`smtps://user:pass@host:465` (TLS from the start). User and password are optional and may be
percent-encoded.
"""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from urllib.parse import parse_qs, unquote, urlsplit


class MailError(Exception):
    """The message could not be handed to the SMTP server (the reason says why)."""


@dataclass(frozen=True)
class SmtpServer:
    """Where and how to hand messages over."""

    host: str
    port: int
    user: str | None
    password: str | None
    tls: bool
    starttls: bool


def parse_url(url: str) -> SmtpServer:
    """The server an `smtp://` or `smtps://` URL names; ValueError saying what is wrong."""
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise ValueError("SYNCQ_SMTP_URL must look like smtp://user:pass@host:587?starttls=true or smtps://host:465")
    query = {k.lower(): v[-1].lower() for k, v in parse_qs(parts.query).items()}
    tls = parts.scheme == "smtps"
    return SmtpServer(
        host=parts.hostname,
        port=parts.port or (465 if tls else 25),
        user=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
        tls=tls,
        starttls=not tls and query.get("starttls") in ("1", "true", "yes", "on"),
    )


def send(url: str, message: EmailMessage, *, timeout: float = 20.0) -> None:
    """Hand `message` to the server at `url`; MailError when it is not accepted."""
    server = parse_url(url)
    context = ssl.create_default_context()
    try:
        if server.tls:
            connection: smtplib.SMTP = smtplib.SMTP_SSL(server.host, server.port, timeout=timeout, context=context)
        else:
            connection = smtplib.SMTP(server.host, server.port, timeout=timeout)
        with connection:
            if server.starttls:
                connection.starttls(context=context)
            if server.user:
                connection.login(server.user, server.password or "")
            connection.send_message(message)
    except (smtplib.SMTPException, OSError) as exc:
        raise MailError(f"{type(exc).__name__}: {exc}") from exc

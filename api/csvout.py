"""CSV answers (`?format=csv` or `Accept: text/csv`), written with the stdlib csv module.

A cell that a spreadsheet would read as a formula (text starting with `=`, `+`, `-`, `@`, a tab or
a carriage return) is prefixed with `'`, so a contest or student name cannot run anything in the
spreadsheet that opens the export (OWASP's "CSV injection"). Numbers are written as numbers.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable
from datetime import date, datetime
from typing import Any

from flask import Response, request

from store.util import iso

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def wants_csv() -> bool:
    """True for `?format=csv`, or for no `format` and an Accept header preferring text/csv;
    400 for any other `format` than csv or json."""
    fmt = request.context.query.format  # the route's query schema allows csv or json only
    if fmt:
        return fmt == "csv"
    # JSON stays the answer to `*/*` and to a tie: only a client that prefers CSV gets it.
    return request.accept_mimetypes.best_match(["application/json", "text/csv"]) == "text/csv"


def cell(value: Any) -> Any:
    """One value as a safe CSV cell."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return value
    if isinstance(value, datetime):
        return iso(value)
    if isinstance(value, date):
        return value.isoformat()
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def csv_response(
    columns: list[str],
    rows: Iterable[dict[str, Any]],
    filename: str,
    pick: Callable[[dict[str, Any], str], Any] = lambda row, name: row.get(name),
) -> Response:
    """A `text/csv` download: a header line of `columns`, then one line per row (rows already read,
    so a store failure is a JSON error, not a cut file)."""

    def lines():
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        writer.writerow(columns)
        yield buffer.getvalue()
        for row in rows:
            buffer.seek(0)
            buffer.truncate()
            writer.writerow([cell(pick(row, name)) for name in columns])
            yield buffer.getvalue()

    return Response(lines(), mimetype="text/csv", headers={"Content-Disposition": f'attachment; filename="{filename}"'})


def csv_bytes(columns: list[str], rows: Iterable[dict[str, Any]]) -> bytes:
    """The whole CSV document of `rows` (a header line of `columns`), to be kept and served again."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([cell(row.get(name)) for name in columns])
    return buffer.getvalue().encode()

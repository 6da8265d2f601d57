"""Inactivity reminders: after each background student sync, every student with no OK
submission for `SYNCQ_INACTIVE_DAYS` gets one email per inactive streak.

A streak is named by the student's last OK submission time (`never` without one): it is
announced (`student.inactive`) once and emailed once, to students who did not opt out
(`reminders: false`), through `SYNCQ_SMTP_URL`. `remindersSent` counts the emails. A student
active again ends the streak, so the next one is reminded again. Claims are atomic in the store,
so two runs at once send one email; an email that fails is retried by the next run.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from email.message import EmailMessage
from string import Template
from typing import Any
from urllib.parse import quote

import store.students as students_store
from adapters import smtp
from core.settings import Settings, get_settings
from core.signals import emit
from store.util import iso, utcnow

log = logging.getLogger(__name__)

SUBJECT = Template("$name, it has been $days days since your last accepted submission")
BODY = Template("""\
Hello $name,

$since

A few problems a week keep the momentum going. Your progress page:
$page

Your Codeforces profile: https://codeforces.com/profile/$handle

You get this email once each time you are inactive for $threshold days or more.
To stop these reminders, ask your coach to turn them off for you.

-- syncq
""")


def _streak(student: dict[str, Any]) -> str:
    last = student.get("lastActiveAt")
    return iso(last) if last else "never"


def _days(student: dict[str, Any], now: datetime) -> int:
    start = student.get("lastActiveAt") or student.get("createdAt") or now
    return max(0, (now - start).days)


def page_url(settings: Settings, handle: str) -> str:
    """The student's page under the public URL."""
    return f"{settings.public_url}/students/{quote(handle)}"


def email_for(student: dict[str, Any], settings: Settings, now: datetime) -> EmailMessage:
    """The reminder email of one student, from the template."""
    days, handle = _days(student, now), student["codeforcesHandle"]
    last = student.get("lastActiveAt")
    since = (
        f"Your last accepted submission on Codeforces was on {last:%d %B %Y}, {days} days ago."
        if last
        else f"We have not seen an accepted submission from you on Codeforces in the {days} days "
        "we have been following your progress."
    )
    values = {
        "name": student.get("name") or handle,
        "days": days,
        "since": since,
        "handle": handle,
        "page": page_url(settings, handle),
        "threshold": settings.inactive_days,
    }
    message = EmailMessage()
    message["From"] = settings.smtp_from
    message["To"] = student["email"]
    message["Subject"] = SUBJECT.substitute(values)
    message.set_content(BODY.substitute(values))
    return message


def after_background_sync() -> dict[str, Any]:
    """The entry point the background student sync calls at its end: `remind_inactive`, whose
    surprise (a bug, the store down) is logged and reported, never failing the sync itself."""
    try:
        return remind_inactive()
    except Exception as exc:
        log.exception("inactivity reminders failed")
        return {"error": f"{type(exc).__name__}: {exc}"[:200]}


def remind_inactive(now: datetime | None = None) -> dict[str, Any]:
    """Announce and email the students inactive for `SYNCQ_INACTIVE_DAYS`; what it did."""
    settings = get_settings()
    now = now or utcnow()
    since = now - timedelta(days=settings.inactive_days)
    ended = students_store.end_streaks(since)
    summary: dict[str, Any] = {"inactive": 0, "announced": 0, "emailed": 0, "streaksEnded": ended, "failed": []}
    for student in students_store.inactive(since):
        handle, streak = student["codeforcesHandle"], _streak(student)
        summary["inactive"] += 1
        if students_store.claim_streak(handle, "inactiveStreak", streak):
            summary["announced"] += 1
            emit(
                "student.inactive",
                {
                    "handle": handle,
                    "name": student.get("name"),
                    "lastActiveAt": iso(student["lastActiveAt"]) if student.get("lastActiveAt") else None,
                    "inactiveDays": _days(student, now),
                    "threshold": settings.inactive_days,
                    "reminders": student.get("reminders", True),
                    "page": page_url(settings, handle),
                },
            )
        if not settings.smtp_url or student.get("reminders") is False or not student.get("email"):
            continue
        if not students_store.claim_streak(handle, "reminderStreak", streak):
            continue  # this streak was emailed already
        try:
            smtp.send(settings.smtp_url, email_for(student, settings, now))
        except (smtp.MailError, ValueError) as exc:
            students_store.release_streak(handle, "reminderStreak", streak)
            log.warning("reminder to %s not sent: %s", handle, exc)
            summary["failed"].append({"handle": handle, "error": str(exc)[:200]})
            continue
        students_store.count_reminder(handle)
        summary["emailed"] += 1
    return summary

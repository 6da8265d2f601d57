"""Inactivity reminders end to end: background student sync (real worker, simulator) -> SMTP
server run in the test (aiosmtpd) -> what arrived; and `student.inactive` to a webhook receiver."""

from __future__ import annotations

import email
import email.policy
import threading
from datetime import timedelta

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

import store.students as students_store
from adapters import smtp
from core.settings import reload_settings
from store.util import utcnow
from syncq.embedded import free_port
from tests.procs import wait_until
from tests.webhook_receiver import receiver, webhook_env  # noqa: F401 (fixtures)

PUBLIC = "https://syncq.example.org"


class Mailbox:
    """What an SMTP server received: parsed messages and who logged in."""

    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self.logins: list[str] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
            self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 Message accepted for delivery"

    def authenticate(self, server, session, envelope, mechanism, auth_data):
        ok = auth_data.login == b"coach" and auth_data.password == b"s3cret"
        if ok:
            self.logins.append(auth_data.login.decode())
        return AuthResult(success=ok)

    def to(self, address: str) -> list[email.message.EmailMessage]:
        return [m for m in self.messages if m["To"] == address]


@pytest.fixture()
def mailbox(monkeypatch):
    """An SMTP server with login on 127.0.0.1; SYNCQ_SMTP_URL and SYNCQ_PUBLIC_URL point syncq at it."""
    box = Mailbox()
    port = free_port()
    controller = Controller(
        box, hostname="127.0.0.1", port=port, authenticator=box.authenticate, auth_require_tls=False
    )
    controller.start()
    monkeypatch.setenv("SYNCQ_SMTP_URL", f"smtp://coach:s3cret@127.0.0.1:{port}")
    monkeypatch.setenv("SYNCQ_PUBLIC_URL", PUBLIC + "/")
    monkeypatch.setenv("SYNCQ_SMTP_FROM", "Coach <coach@example.org>")
    reload_settings()
    box.port = port
    yield box
    controller.stop()
    monkeypatch.undo()
    reload_settings()


def create(client, headers, handle):
    r = client.post(
        "/api/students",
        headers=headers,
        json={"name": handle.title(), "email": f"{handle}@example.com", "codeforcesHandle": handle},
    )
    assert r.status_code == 201, r.get_json()
    assert client.get(f"/jobs/{r.get_json()['job']['job_id']}?wait=60", headers=headers).status_code == 200


def last_active(store_db, handle, days_ago):
    store_db.students.update_one(
        {"handleLower": handle}, {"$set": {"lastActiveAt": utcnow() - timedelta(days=days_ago)}}
    )


def background_sync(client, headers) -> dict:
    r = client.post("/api/students/sync?wait=60", headers=headers)
    assert r.status_code == 200, r.get_json()
    return r.get_json()["reminders"]


def student(client, headers, handle) -> dict:
    return client.get(f"/api/students/{handle}", headers=headers).get_json()


def test_an_inactive_student_is_emailed_once_per_streak_and_not_after_opting_out(
    webhook_env, mailbox, client, admin_headers, worker, simulator, store_db, receiver
):
    for handle in ("light_0001", "light_0002", "light_0003"):
        create(client, admin_headers, handle)
    assert student(client, admin_headers, "light_0001")["reminders"] is True
    hook = client.post(
        "/api/webhooks", headers=admin_headers, json={"url": receiver.url, "events": ["student.inactive"]}
    ).get_json()
    last_active(store_db, "light_0001", 10)
    last_active(store_db, "light_0002", 1)
    last_active(store_db, "light_0003", 12)
    r = client.patch("/api/students/light_0003", headers=admin_headers, json={"reminders": False})
    assert r.status_code == 200 and r.get_json()["reminders"] is False

    # (The job's `reminders` summary is not asserted: the fan-out's last two steps may both end the
    # job, each running the reminders, and only one of them sends; what arrived is what counts.)
    assert background_sync(client, admin_headers)["failed"] == []
    [message] = wait_until(lambda: mailbox.messages, 30, "the reminder")
    assert mailbox.envelopes == [("coach@example.org", ["light_0001@example.com"])] and mailbox.logins == ["coach"]
    assert message["To"] == "light_0001@example.com" and message["From"] == "Coach <coach@example.org>"
    assert message["Subject"] == "Light_0001, it has been 10 days since your last accepted submission"
    body = message.get_content()
    assert "10 days ago" in body and f"{PUBLIC}/students/light_0001" in body and "7 days or more" in body
    assert student(client, admin_headers, "light_0001")["remindersSent"] == 1
    assert student(client, admin_headers, "light_0003")["remindersSent"] == 0
    # Both inactive students are announced, the opted-out one too (it is still inactive).
    from standardwebhooks.webhooks import Webhook

    events = [Webhook(hook["secret"]).verify(r["body"], r["headers"]) for r in receiver.wait_for(2)]
    by_handle = {e["data"]["handle"]: e["data"] for e in events}
    assert set(by_handle) == {"light_0001", "light_0003"} and by_handle["light_0003"]["reminders"] is False
    assert by_handle["light_0001"]["inactiveDays"] == 10 and by_handle["light_0001"]["threshold"] == 7

    # The same streak: nothing more.
    background_sync(client, admin_headers)
    assert len(mailbox.messages) == 1

    # Active again: the streak ends, no email.
    last_active(store_db, "light_0001", 0)
    background_sync(client, admin_headers)
    assert len(mailbox.messages) == 1 and students_store.get("light_0001")["reminderStreak"] is None

    # Inactive again: a new streak, a new email (naming its own days).
    last_active(store_db, "light_0001", 8)
    background_sync(client, admin_headers)
    wait_until(lambda: len(mailbox.to("light_0001@example.com")) == 2, 30, "the second streak's reminder")
    assert "8 days" in mailbox.messages[-1]["Subject"]
    assert student(client, admin_headers, "light_0001")["remindersSent"] == 2
    assert mailbox.to("light_0003@example.com") == [] and mailbox.to("light_0002@example.com") == []
    wait_until(lambda: len(receiver.requests) >= 3, 30, "the second streak's event")


def test_bad_reminders_flags_are_400(client, admin_headers, store_db):
    students_store.create("Ann", "ann@example.com", "ann_01")
    for value in ("no", 0, None, []):
        r = client.patch("/api/students/ann_01", headers=admin_headers, json={"reminders": value})
        assert r.status_code == 400 and r.get_json()["message"] == "'reminders' must be true or false"
    assert students_store.get("ann_01")["reminders"] is True


def test_an_email_that_cannot_be_sent_is_sent_by_the_next_run(mailbox, store_db, monkeypatch):
    from syncs.reminders import remind_inactive

    students_store.create("Bo", "bo@example.com", "bo_01")
    store_db.students.update_one(
        {"handleLower": "bo_01"}, {"$set": {"lastSyncedAt": utcnow(), "lastActiveAt": utcnow() - timedelta(days=30)}}
    )
    monkeypatch.setenv("SYNCQ_SMTP_URL", f"smtp://coach:s3cret@127.0.0.1:{free_port()}")  # nobody listens
    reload_settings()
    summary = remind_inactive()
    assert summary["emailed"] == 0 and summary["failed"][0]["handle"] == "bo_01"
    assert "ConnectionRefusedError" in summary["failed"][0]["error"]
    assert students_store.get("bo_01")["remindersSent"] == 0 and mailbox.messages == []
    monkeypatch.setenv("SYNCQ_SMTP_URL", f"smtp://coach:s3cret@127.0.0.1:{mailbox.port}")
    reload_settings()
    assert remind_inactive()["emailed"] == 1 and mailbox.to("bo@example.com")
    assert remind_inactive()["emailed"] == 0 and len(mailbox.messages) == 1


def test_a_student_never_active_is_told_so(mailbox, store_db):
    from syncs.reminders import remind_inactive

    students_store.create("Cy", "cy@example.com", "cy_01")
    store_db.students.update_one(
        {"handleLower": "cy_01"}, {"$set": {"lastSyncedAt": utcnow(), "createdAt": utcnow() - timedelta(days=9)}}
    )
    students_store.create("Di", "di@example.com", "di_01")  # never synced: not judged yet
    assert remind_inactive()["emailed"] == 1
    [message] = mailbox.messages
    assert message["To"] == "cy@example.com"
    assert "not seen an accepted submission from you on Codeforces in the 9 days" in message.get_content()


@pytest.mark.parametrize(
    "url, expected",
    [
        ("smtp://user:p%40ss@mail.example:587?starttls=true", ("mail.example", 587, "user", "p@ss", False, True)),
        ("smtps://mail.example", ("mail.example", 465, None, None, True, False)),
        ("smtp://127.0.0.1", ("127.0.0.1", 25, None, None, False, False)),
    ],
)
def test_smtp_urls_are_read(url, expected):
    s = smtp.parse_url(url)
    assert (s.host, s.port, s.user, s.password, s.tls, s.starttls) == expected


def test_a_malformed_smtp_url_is_refused():
    with pytest.raises(ValueError, match="SYNCQ_SMTP_URL must look like"):
        smtp.parse_url("http://mail.example")

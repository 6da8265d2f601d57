"""Shared test fixtures: real Redis, a real MongoDB wire server, a real Celery worker.

- Redis: `SYNCQ_TEST_REDIS_URL` (default: a database on 127.0.0.1:6379 picked per session,
  so two suites on one machine do not share keys); a unique queue name per session.
- MongoDB: `SYNCQ_TEST_MONGODB_URI` if set, else one `secantusd-py` process per session
  (`:memory:`); every test that uses the store gets a database of its own.
"""

from __future__ import annotations

import os
import socket
import sys
import uuid
import warnings

# Settings are read from the environment once: set the test values before syncq is imported.
_SESSION = uuid.uuid4().hex[:8]
_REDIS_URL = os.environ.get("SYNCQ_TEST_REDIS_URL") or f"redis://127.0.0.1:6379/{os.getpid() % 14 + 1}"
os.environ["SYNCQ_REDIS_URL"] = _REDIS_URL
os.environ["SYNCQ_QUEUE"] = f"syncq-test-{_SESSION}"
os.environ["SYNCQ_JWT_SECRET"] = "test-secret-for-syncq-tests-only-0123456789abcdef"
os.environ["SYNCQ_MONGODB_URI"] = "mongodb://127.0.0.1:1/unset-until-the-session-starts"
os.environ["SYNCQ_STORE_TIMEOUT_MS"] = "3000"
os.environ.setdefault("SYNCQ_HTTP_BACKOFF_BASE", "0")
os.environ.setdefault("SYNCQ_HTTP_BACKOFF_MAX", "0.05")
# Triggers answer 202 at once unless a test asks for the seeds' default wait (the `seed_wait`
# fixture, or its own settings): most tests poll the job they started.
os.environ["SYNCQ_SYNC_WAIT"] = "0"

import pytest  # noqa: E402
import redis  # noqa: E402

import store  # noqa: E402
from core.settings import reload_settings  # noqa: E402
from syncq.embedded import start_secantus  # noqa: E402
from tests.procs import wait_until  # noqa: E402

reload_settings()

# No test may reach the internet: a name that is not loopback fails here, at once, in this
# process and in the worker threads it runs (subprocesses get local service URLs from their tests).
_real_getaddrinfo = socket.getaddrinfo


def _loopback_only(host, *args, **kwargs):
    name = host.decode() if isinstance(host, bytes) else host
    if name not in (None, "localhost", "::1", "0.0.0.0") and not str(name).startswith("127."):
        raise socket.gaierror(socket.EAI_NONAME, f"tests may not reach the internet (asked for {name})")
    return _real_getaddrinfo(host, *args, **kwargs)


socket.getaddrinfo = _loopback_only


@pytest.fixture(scope="session")
def redis_url() -> str:
    """The test Redis URL; the session fails clearly when nothing answers there."""
    client = redis.Redis.from_url(_REDIS_URL, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.RedisError as exc:
        pytest.exit(
            f"Redis is needed at {_REDIS_URL} ({exc}); start one: redis-server --daemonize yes "
            "--bind 127.0.0.1 --port 6379 --save '' --appendonly no",
            returncode=3,
        )
    _clear_run_keys(client)  # an interrupted session's locks
    return _REDIS_URL


def _clear_run_keys(client: redis.Redis) -> None:
    """Drop every "one run at a time" guard and running mark: each test starts with none, so a
    trigger is never answered with a job of an earlier test's database."""
    for key in [*client.scan_iter("syncq:guard:*"), *client.scan_iter("syncq:running:*")]:
        client.delete(key)


@pytest.fixture(scope="session")
def mongo_uri():
    """A MongoDB wire server for the whole session (SecantusDB unless one is given)."""
    given = os.environ.get("SYNCQ_TEST_MONGODB_URI")
    if given:
        yield given
        return
    server = start_secantus(":memory:")
    try:
        yield server.uri
    finally:
        server.stop()


@pytest.fixture()
def store_db(mongo_uri, redis_url):
    """A fresh database of this test's own, set as the store's database (the worker's too)."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    store.configure(mongo_uri, name)
    os.environ["SYNCQ_MONGODB_URI"] = mongo_uri
    database = store.db()
    yield database
    if "workers.celery_app" in sys.modules:  # jobs a test enqueued must not run in the next test
        celery_app = sys.modules["workers.celery_app"].app
        celery_app.control.purge()
        if _started_workers:  # once the session's worker runs, it takes every test's jobs
            _settle(celery_app, _started_workers[0])
    _clear_run_keys(redis.Redis.from_url(redis_url))
    try:
        store.client().drop_database(name)
    except Exception:  # a test that stopped the store must not fail the teardown
        pass


@pytest.fixture()
def app(store_db):
    """The Flask app on the test store."""
    from api import create_app, login_guard

    application = create_app(reload_settings())
    application.config.update(TESTING=True)
    login_guard.reset(application.config["SYNCQ_SETTINGS"])  # failed logins of earlier tests must not limit this one
    return application


@pytest.fixture()
def seed_wait(app):
    """The app with the seeds' default: a trigger with no preference waits up to 60 s for its job."""
    app.config["SYNCQ_SETTINGS"] = app.config["SYNCQ_SETTINGS"].replace(sync_wait=60.0)
    return app


@pytest.fixture()
def client(app):
    """A Flask test client."""
    return app.test_client()


def _token(app, username: str, role: str) -> str:
    import store.users as users
    from api.auth import issue_token

    if users.get(username) is None:
        users.create(username, "correct horse battery staple", role)
    with app.app_context():
        return issue_token(username, role, version=users.token_version(users.get(username)))


@pytest.fixture()
def admin_token(app) -> str:
    """A valid token of an existing admin user."""
    return _token(app, "admin", "admin")


@pytest.fixture()
def user_token(app) -> str:
    """A valid token of an existing user without role admin."""
    return _token(app, "viewer", "user")


@pytest.fixture()
def admin_headers(admin_token) -> dict[str, str]:
    return {"Authorization": f"Bearer {admin_token}"}


@pytest.fixture(scope="session")
def celery_app_under_test(redis_url):
    """The project's own Celery app, pointed at the test Redis and queue."""
    from workers import app as celery_app

    celery_app.conf.update(broker_url=redis_url, result_backend=redis_url)
    celery_app.loader.import_default_modules()
    return celery_app


@pytest.fixture(scope="session")
def _session_worker(celery_app_under_test):
    """A real Celery worker (thread pool) consuming the test queue through real Redis."""
    from celery.contrib.testing.worker import start_worker

    celery_app_under_test.control.purge()
    with start_worker(
        celery_app_under_test,
        pool="threads",
        concurrency=4,
        perform_ping_check=False,
        loglevel="WARNING",
        shutdown_timeout=20,
    ) as worker:
        _started_workers.append(worker.hostname)
        yield worker
        _started_workers.clear()


# The session's worker once started: every test's teardown (store_db's) settles it.
_started_workers: list[str] = []


@pytest.fixture()
def worker(_session_worker, store_db):
    """The session's worker, with this test's store configured; what a test left queued or
    running is purged or finished by store_db's teardown, so it cannot run in a later test's
    database (tests that do not ask for the worker are settled the same way)."""
    return _session_worker


def _settle(app, hostname: str, timeout: float = 60.0) -> None:
    """Let the session's worker finish what a test left running, and drop what it holds for later
    (prefetched tasks, retries waiting for their countdown): the store moves to the next test's
    database, and a job of this test must neither run there nor hold a guard there."""
    inspect = app.control.inspect(destination=[hostname], timeout=2.0, limit=1)
    later = [entry["request"]["id"] for entry in (inspect.scheduled() or {}).get(hostname, [])]
    later += [request["id"] for request in (inspect.reserved() or {}).get(hostname, [])]
    if later:
        app.control.revoke(later, destination=[hostname])
    try:
        wait_until(lambda: not (inspect.active() or {}).get(hostname), timeout, "the worker to finish the test's jobs")
    except AssertionError as exc:  # a stuck job must not fail the next test's setup: say so instead
        warnings.warn(str(exc), stacklevel=1)


@pytest.fixture(scope="session")
def _simulator():
    from syncq.simulator import Simulator

    with Simulator() as simulator:
        yield simulator


@pytest.fixture()
def simulator(_simulator, monkeypatch):
    """The platform simulator (reset), with every adapter pointed at it and a generous
    Codeforces limit; the settings are restored afterwards."""
    _simulator.reset()
    for name, value in _simulator.env().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("SYNCQ_CF_RATE_PER_SECOND", "100")
    monkeypatch.setenv("SYNCQ_CF_RATE_BURST", "100")
    monkeypatch.setenv("SYNCQ_RAIDA_TIMEOUT", "0.5")
    reload_settings()
    redis.Redis.from_url(_REDIS_URL).delete("syncq:ratelimit:codeforces")
    yield _simulator
    _simulator.reset()
    monkeypatch.undo()
    reload_settings()


@pytest.fixture()
def own_sleeps(monkeypatch) -> list[float]:
    """Records and skips `time.sleep` calls made by the test's own thread.

    `time.sleep` is one attribute of one module, so patching it reaches every thread; the
    session's worker and simulator threads keep sleeping for real, and their naps stay out
    of the list the test asserts on.
    """
    import threading
    import time

    real_sleep, me, naps = time.sleep, threading.get_ident(), []

    def sleep(seconds: float) -> None:
        if threading.get_ident() == me:
            naps.append(seconds)
        else:
            real_sleep(seconds)

    monkeypatch.setattr(time, "sleep", sleep)
    return naps

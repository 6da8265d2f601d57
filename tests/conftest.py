"""The test session's environment, and its fixtures by what they provide (`pytest_plugins`):

- tests/plugins/network.py: no test reaches the internet;
- tests/plugins/redis_db.py: the test Redis (`redis_url`);
- tests/plugins/mongodb.py: the store (`mongo_uri`, `store_db`: a database per test);
- tests/plugins/flask_app.py: the API (`app`, `client`, `seed_wait`, tokens);
- tests/plugins/celery_worker.py: the session's worker (`worker`, `celery_app_under_test`);
- tests/plugins/simulator.py: the platform simulator (`simulator`);
- tests/plugins/sleeps.py: `own_sleeps`.
"""

from __future__ import annotations

import os
import uuid

# Settings are read from the environment once: set the test values before syncq is imported.
# Redis: `SYNCQ_TEST_REDIS_URL`, default a database on 127.0.0.1:6379 picked per session (two suites
# on one machine do not share keys); a queue name of the session's own.
os.environ["SYNCQ_REDIS_URL"] = (
    os.environ.get("SYNCQ_TEST_REDIS_URL") or f"redis://127.0.0.1:6379/{os.getpid() % 14 + 1}"
)
os.environ["SYNCQ_QUEUE"] = f"syncq-test-{uuid.uuid4().hex[:8]}"
os.environ["SYNCQ_JWT_SECRET"] = "test-secret-for-syncq-tests-only-0123456789abcdef"
os.environ["SYNCQ_MONGODB_URI"] = "mongodb://127.0.0.1:1/unset-until-the-session-starts"
os.environ["SYNCQ_STORE_TIMEOUT_MS"] = "3000"
os.environ.setdefault("SYNCQ_HTTP_BACKOFF_BASE", "0")
os.environ.setdefault("SYNCQ_HTTP_BACKOFF_MAX", "0.05")
# Triggers answer 202 at once unless a test asks for the default wait (the `seed_wait` fixture, or
# its own settings): most tests poll the job they started.
os.environ["SYNCQ_SYNC_WAIT"] = "0"
# Installed source plugins (the example one, in CI) join only the tests that ask for them.
os.environ.setdefault("SYNCQ_SOURCE_PLUGINS", "none")

from core.settings import reload_settings

reload_settings()

pytest_plugins = [
    "tests.plugins.network",
    "tests.plugins.redis_db",
    "tests.plugins.mongodb",
    "tests.plugins.store_commands",
    "tests.plugins.flask_app",
    "tests.plugins.celery_worker",
    "tests.plugins.simulator",
    "tests.plugins.sleeps",
]

"""Configuration is read from the environment in one place, with clear errors."""

from __future__ import annotations

import pytest

import schedules
from core.settings import ConfigError, Settings


@pytest.fixture()
def env(monkeypatch):
    """A process environment with no syncq variable; returns a setter."""
    import os

    for name in list(os.environ):
        if name.startswith("SYNCQ_") or name.startswith("FLOWER_"):
            monkeypatch.delenv(name)

    def set_env(values: dict[str, str]) -> None:
        for name, value in values.items():
            monkeypatch.setenv(name, value)

    return set_env


def test_defaults_match_the_readme(env):
    s = Settings.from_env()
    assert s.redis_url == "redis://127.0.0.1:6379/0"
    assert s.mongodb_uri == "mongodb://127.0.0.1:27017/syncq"
    assert s.codeforces_url == "https://codeforces.com" and s.raida_directory_index == 11


def test_values_come_from_the_environment(env):
    env(
        {
            "SYNCQ_REDIS_URL": "redis://r:1/2",
            "SYNCQ_VISIBILITY_TIMEOUT": "9000",
            "SYNCQ_CODEFORCES_URL": "http://127.0.0.1:9000/cf/",
            "SYNCQ_PLATFORM_ORDER": "atcoder, codeforces",
            "SYNCQ_TOKEN": "tok",
            "FLOWER_USER": "ops",
            "SYNCQ_LOG_LEVEL": "",
        }
    )
    s = Settings.from_env()
    assert s.api_token == "tok" and s.flower_user == "ops" and s.log_level == "INFO"
    assert s.redis_url == "redis://r:1/2" and s.visibility_timeout == 9000
    assert s.codeforces_url == "http://127.0.0.1:9000/cf"
    assert s.platform_order == ("atcoder", "codeforces")


@pytest.mark.parametrize(
    "values,name",
    [
        ({"SYNCQ_VISIBILITY_TIMEOUT": "soon"}, "SYNCQ_VISIBILITY_TIMEOUT"),
        ({"SYNCQ_VISIBILITY_TIMEOUT": "4"}, "SYNCQ_VISIBILITY_TIMEOUT"),
        ({"SYNCQ_CONTESTS_SCHEDULE_ENABLED": "maybe"}, "SYNCQ_CONTESTS_SCHEDULE_ENABLED"),
        ({"SYNCQ_CF_RATE_PER_SECOND": "fast"}, "SYNCQ_CF_RATE_PER_SECOND"),
    ],
)
def test_malformed_values_name_the_variable(env, values, name):
    env(values)
    with pytest.raises(ConfigError, match=name):
        Settings.from_env()


def test_celery_app_has_the_delivery_guarantees():
    from workers import app

    conf = app.conf
    assert conf.task_acks_late and conf.task_reject_on_worker_lost
    assert conf.worker_prefetch_multiplier == 1 and conf.accept_content == ["json"]
    assert conf.task_serializer == "json" and conf.worker_send_task_events
    assert conf.broker_transport_options["visibility_timeout"] >= 5


def test_every_task_has_an_explicit_dotted_name():
    from workers import app

    app.loader.import_default_modules()
    ours = [name for name in app.tasks if not name.startswith("celery.")]
    assert ours and all(name.startswith("syncq.") and name.count(".") >= 2 for name in ours)


def test_contests_schedule_runs_every_six_hours_at_minute_zero():
    entry = {e["name"]: e for e in schedules.entries(Settings())}["sync-all-contests"]
    cron = schedules.parse_cron(entry["cron"])
    assert cron.minute == {0} and cron.hour == {0, 6, 12, 18}
    assert entry["kind"] == "contests.sync_all" and entry["enabled"] is True


def test_schedules_can_be_switched_off_and_retimed():
    s = Settings(contests_schedule_enabled=False, raida_schedule_minutes=15)
    entries = {e["name"]: e for e in schedules.entries(s)}
    assert entries["sync-all-contests"]["enabled"] is False
    assert schedules.parse_cron(entries["sync-raida"]["cron"]).minute == {0, 15, 30, 45}


def test_the_suite_itself_cannot_reach_the_internet():
    import httpx

    with pytest.raises(httpx.ConnectError, match="may not reach the internet"):
        httpx.get("https://codeforces.com/api/contest.list", timeout=2)


def test_the_embedded_store_is_reached_directly_without_retryable_writes(mongo_uri):
    # SecantusDB sweeps its record of every retryable write on each new one (docs/benchmarks-notes.md).
    from pymongo import MongoClient

    from syncq.embedded import embedded_uri

    assert (
        embedded_uri("127.0.0.1", 5, "syncq") == "mongodb://127.0.0.1:5/syncq?directConnection=true&retryWrites=false"
    )
    with MongoClient(mongo_uri) as client:
        assert client.options.retry_writes is False and client.options.direct_connection is True
        assert client.t_retry.c.insert_one({"ok": 1}).acknowledged
        client.drop_database("t_retry")

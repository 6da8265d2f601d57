"""docker-compose.yml, .env.example and the README stay true to the code (Docker cannot run here)."""

from __future__ import annotations

import importlib
import re
import shlex
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
APP_SERVICES = ("api", "worker", "beat", "flower")


def settings_variables() -> set[str]:
    """Every environment variable the project reads (settings, gunicorn config)."""
    from core.settings import Settings

    names = set()
    for name, field in Settings.model_fields.items():
        aliases = [a for a in getattr(field.validation_alias, "choices", []) if a != name]
        names |= set(aliases) if aliases else {f"SYNCQ_{name.upper()}"}
    for path in (ROOT / "syncq" / "gunicorn_conf.py", ROOT / "core" / "metrics.py"):
        names |= set(re.findall(r'"((?:SYNCQ|FLOWER|PROMETHEUS)_[A-Z0-9_]+)"', path.read_text()))
    return names


def _command(service: str) -> list[str]:
    command = SERVICES[service]["command"]
    return command if isinstance(command, list) else shlex.split(command)


def test_compose_has_every_service():
    assert set(SERVICES) == {"mongo", "redis", "rabbitmq", "api", "worker", "beat", "flower"}


def test_rabbitmq_is_the_broker_with_a_volume_and_a_healthcheck():
    rabbit = SERVICES["rabbitmq"]
    assert any(volume.endswith(":/var/lib/rabbitmq") for volume in rabbit["volumes"])
    assert "check_port_connectivity" in rabbit["healthcheck"]["test"]
    for service in APP_SERVICES:
        assert SERVICES[service]["environment"]["SYNCQ_BROKER_URL"].startswith("amqp://")
        assert SERVICES[service]["depends_on"]["rabbitmq"]["condition"] == "service_healthy"


def test_rabbitmq_waits_for_an_acknowledgement_longer_than_the_longest_task_or_retry_countdown():
    from core.settings import Settings

    # A channel closed for a late acknowledgement requeues its task: it would run twice.
    args = SERVICES["rabbitmq"]["environment"]["RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS"].split()
    timeout_s = int(args[args.index("consumer_timeout") + 1]) / 1000
    default = {name: field.default for name, field in Settings.model_fields.items()}
    longest = max(default[f"{kind}_time_limit"] for kind in ("contest", "student", "students_all", "raida"))
    assert timeout_s > longest + 30  # the hard limit: 30 s after the soft one
    assert timeout_s > default["webhook_backoff_max"]


def test_redis_keeps_an_append_only_file_on_a_volume():
    redis = SERVICES["redis"]
    assert "--appendonly" in redis["command"] and redis["command"][redis["command"].index("--appendonly") + 1] == "yes"
    assert any(volume.endswith(":/data") for volume in redis["volumes"])


def test_mongo_has_a_volume_and_healthcheck():
    assert any(volume.endswith(":/data/db") for volume in SERVICES["mongo"]["volumes"])
    assert "ping" in " ".join(SERVICES["mongo"]["healthcheck"]["test"])


@pytest.mark.parametrize("service", APP_SERVICES)
def test_app_services_wait_for_healthy_dependencies(service):
    depends = SERVICES[service]["depends_on"]
    assert depends["redis"]["condition"] == "service_healthy"
    if service != "flower":
        assert depends["mongo"]["condition"] == "service_healthy"


@pytest.mark.parametrize("service", ["mongo", "redis", "api", "worker"])
def test_long_running_services_have_healthchecks(service):
    assert SERVICES[service]["healthcheck"]["test"]


def test_api_command_points_at_the_app_factory_and_gunicorn_config():
    command = _command("api")
    assert command[0] == "gunicorn"
    config = command[command.index("--config") + 1]
    assert config.startswith("python:")
    importlib.import_module(config.split(":", 1)[1])
    module, factory = command[-1].rstrip("()").split(":")
    assert callable(getattr(importlib.import_module(module), factory))


@pytest.mark.parametrize("service,subcommand", [("worker", "worker"), ("beat", "beat")])
def test_celery_commands_use_the_project_app(service, subcommand):
    command = _command(service)
    assert command[:3] == ["celery", "-A", "workers"] and command[3] == subcommand
    assert hasattr(importlib.import_module("workers"), "app")


def test_worker_sends_task_events_for_flower():
    assert "-E" in _command("worker")


def test_beat_uses_redbeat_so_a_second_beat_is_a_standby():
    command = _command("beat")
    scheduler = command[command.index("--scheduler") + 1]
    module, cls = scheduler.rsplit(".", 1)
    assert getattr(importlib.import_module(module), cls)


def test_flower_command_is_a_syncq_subcommand_with_required_basic_auth():
    from syncq.cli import _load_extensions, build_parser

    command = _command("flower")
    assert command[:2] == ["syncq", "flower"]
    _load_extensions()
    args = build_parser().parse_args(command[1:])
    assert args.func.__name__ == "cmd_flower"
    env = SERVICES["flower"]["environment"]
    assert ":?" in env["FLOWER_USER"] and ":?" in env["FLOWER_PASSWORD"]


def test_flower_refuses_to_start_without_basic_auth(monkeypatch):
    from core.settings import reload_settings
    from syncq.flower import flower_argv

    monkeypatch.delenv("FLOWER_USER", raising=False)
    monkeypatch.delenv("FLOWER_PASSWORD", raising=False)
    reload_settings()
    with pytest.raises(SystemExit, match="basic auth"):
        flower_argv(5555, "0.0.0.0")
    monkeypatch.setenv("FLOWER_USER", "ops")
    monkeypatch.setenv("FLOWER_PASSWORD", "pw")
    reload_settings()
    assert not any("ops" in arg or "pw" in arg for arg in flower_argv(5555, "0.0.0.0"))
    monkeypatch.delenv("FLOWER_USER")
    monkeypatch.delenv("FLOWER_PASSWORD")
    reload_settings()


@pytest.mark.parametrize("service", APP_SERVICES)
def test_every_variable_compose_sets_is_read_by_the_settings(service):
    known = settings_variables()
    unknown = set(SERVICES[service]["environment"]) - known
    assert not unknown, f"{service} sets variables nothing reads: {unknown}"


def test_compose_requires_the_jwt_secret():
    assert ":?" in SERVICES["api"]["environment"]["SYNCQ_JWT_SECRET"]


def test_env_example_documents_every_variable_compose_interpolates():
    text = (ROOT / "docker-compose.yml").read_text()
    used = set(re.findall(r"\$\{([A-Z0-9_]+)", text))
    example = {
        line.split("=", 1)[0]
        for line in (ROOT / ".env.example").read_text().splitlines()
        if "=" in line and not line.startswith("#")
    }
    assert used <= example, f"missing from .env.example: {used - example}"


def test_readme_lists_every_setting():
    readme = (ROOT / "README.md").read_text()
    missing = {name for name in settings_variables() if f"`{name}`" not in readme}
    assert not missing, f"README's configuration table lacks {sorted(missing)}"


def test_dockerfile_copies_every_package():
    dockerfile = (ROOT / "Dockerfile").read_text()
    for package in ("api", "core", "jobs", "syncs", "workers", "adapters", "store", "syncq", "schedules.py"):
        assert f"COPY {package}" in dockerfile


def test_compose_lets_the_api_trust_a_proxy_and_says_when():
    text = (ROOT / "docker-compose.yml").read_text()
    assert SERVICES["api"]["environment"]["SYNCQ_TRUSTED_PROXIES"] == "${SYNCQ_TRUSTED_PROXIES:-0}"
    assert "X-Forwarded-For" in text and "SYNCQ_TRUSTED_PROXIES" in (ROOT / "README.md").read_text()

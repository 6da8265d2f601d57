"""Secrets stay secret: Flower's password never reaches a command line, and the launcher's secret
files are created readable by their owner only, with no moment when they are not."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from core.settings import reload_settings


@pytest.fixture()
def flower_auth(monkeypatch):
    monkeypatch.setenv("FLOWER_USER", "ops")
    monkeypatch.setenv("FLOWER_PASSWORD", "s3cret-flower-pass")
    reload_settings()
    yield
    monkeypatch.undo()
    reload_settings()


def test_flowers_argv_holds_no_password_and_its_environment_does(flower_auth, monkeypatch):
    import argparse

    from syncq import flower

    ran = {}

    def execvpe(file, argv, env):
        ran.update(argv=argv, env=env)

    monkeypatch.setattr(os, "execvpe", execvpe)
    flower.cmd_flower(argparse.Namespace(port=5555, address="127.0.0.1"))
    assert not any("s3cret-flower-pass" in arg for arg in ran["argv"])
    assert "--port=5555" in ran["argv"] and "flower" in ran["argv"]
    assert ran["env"]["FLOWER_BASIC_AUTH"] == "ops:s3cret-flower-pass"


def test_a_password_flower_would_split_is_refused(monkeypatch):
    from syncq.flower import flower_argv

    monkeypatch.setenv("FLOWER_USER", "ops")
    monkeypatch.setenv("FLOWER_PASSWORD", "one,two")
    reload_settings()
    try:
        with pytest.raises(SystemExit, match="must not contain ','"):
            flower_argv(5555, "127.0.0.1")
    finally:
        monkeypatch.undo()
        reload_settings()


def test_a_secret_file_is_created_with_its_final_mode(tmp_path, monkeypatch):
    from syncq.standalone import _secret

    def narrowed_later(*_args, **_kwargs):
        raise AssertionError("the file was created readable by others, then narrowed")

    monkeypatch.setattr(Path, "chmod", narrowed_later)
    monkeypatch.setattr(os, "chmod", narrowed_later)
    old = os.umask(0)  # a file created with the default mode would be readable by everyone
    try:
        value = _secret(tmp_path, "jwt-secret")
    finally:
        os.umask(old)
    path = tmp_path / "jwt-secret"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and path.read_text() == value and len(value) > 40
    assert _secret(tmp_path, "jwt-secret") == value  # kept across restarts

"""The commands the store's client sends, recorded while a test asks (`commands.on = True`)."""

from __future__ import annotations

import pytest
from pymongo import monitoring

import store


class _Commands(monitoring.CommandListener):
    """The store's commands (name and collection) while `on`."""

    def __init__(self):
        self.on, self.seen = False, []

    def started(self, event):
        if self.on:
            self.seen.append((event.command_name, event.command.get(event.command_name)))

    def succeeded(self, event):
        pass

    def failed(self, event):
        pass


@pytest.fixture()
def commands(store_db):
    """Every command the store sends while `commands.on` (its client remade with the listener)."""
    listener = _Commands()
    monitoring.register(listener)
    store.reset_after_fork()  # the next client is made with the listener
    yield listener
    listener.on = False
    store.reset_after_fork()

"""The API: the Flask app on the test store, its test client, and tokens of existing users."""

from __future__ import annotations

import pytest

from core.settings import reload_settings


@pytest.fixture()
def app(store_db):
    """The Flask app on the test store (what it enqueues runs only in a test that asks for `worker`)."""
    from api import create_app, login_guard
    from api.public_limit import limiter

    application = create_app(reload_settings())
    application.config.update(TESTING=True)
    login_guard.reset(application.config["SYNCQ_SETTINGS"])  # failed logins of earlier tests must not limit this one
    with application.app_context():
        limiter.reset()  # nor the public reads of earlier tests
    return application


@pytest.fixture()
def seed_wait(app):
    """The app with the default wait: a trigger with no preference waits up to 60 s for its job."""
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

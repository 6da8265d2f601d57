"""The web UI's files as the API serves them: the redirect, the policy, cache headers, errors."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

UI = Path(__file__).resolve().parent.parent / "api" / "static" / "ui"


def test_root_redirects_to_the_ui(client):
    response = client.get("/")
    assert response.status_code == 302 and response.headers["Location"].endswith("/ui/")


def test_the_page_has_a_strict_policy_and_is_revalidated(client):
    response = client.get("/ui/")
    assert response.status_code == 200 and response.mimetype == "text/html"
    policy = response.headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy and "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert "unsafe" not in policy
    assert response.headers["Cache-Control"] == "no-cache" and response.headers["ETag"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    again = client.get("/ui/", headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304


def test_vendored_files_are_cached_for_a_year_and_app_files_revalidated(client):
    vendored = next(p for p in (UI / "vendor").glob("*/*.js"))
    response = client.get(f"/ui/{vendored.relative_to(UI)}")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    app_js = client.get("/ui/js/main.js")
    assert app_js.status_code == 200 and app_js.headers["Cache-Control"] == "no-cache"
    assert app_js.mimetype in ("text/javascript", "application/javascript")


@pytest.mark.parametrize("path", ["/ui/nope.js", "/ui/../api/ui.py", "/ui/%2e%2e/api/ui.py", "/ui/js/../../ui.py"])
def test_missing_or_escaping_paths_are_a_json_404(client, path):
    response = client.get(path)
    assert response.status_code == 404
    assert response.get_json() == {"statusCode": 404, "message": "Not found"}


def test_config_names_flower_only_when_set(client, app):
    assert client.get("/ui/config.json").get_json() == {"flowerUrl": None}
    app.config["SYNCQ_SETTINGS"] = app.config["SYNCQ_SETTINGS"].replace(flower_url="http://flower.example:5555")
    assert client.get("/ui/config.json").get_json() == {"flowerUrl": "http://flower.example:5555"}


def test_no_inline_script_style_or_html_injection_in_the_ui_sources():
    html = (UI / "index.html").read_text()
    assert not re.search(r"<script(?![^>]*\bsrc=)", html) and "<style" not in html and " style=" not in html
    assert not re.search(r"\son[a-z]+=", html)  # no inline handlers
    for source in (UI / "js").rglob("*.js"):
        text = source.read_text()
        for risky in (".innerHTML", ".outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function"):
            assert risky not in text, (source, risky)


def test_each_vendored_library_has_its_licence_and_pinned_version():
    folders = [p for p in (UI / "vendor").iterdir() if p.is_dir()]
    assert folders
    for folder in folders:
        name, version = folder.name.rsplit("-", 1)
        assert (folder / "LICENSE").read_text().strip()
        pinned = (folder / "VERSION").read_text().split()
        assert pinned[0] == f"{name}@{version}" and pinned[2].startswith("sha512-")
        assert f'"{name}@{version} ' in (UI.parents[2] / "scripts" / "vendor-ui.sh").read_text()

"""The seed documents' own JavaScript clients, run by node against a live API and worker.

The examples are copied verbatim from ../shared/seeds into tests/seed_clients/ (a test checks
they still match the seeds); the run changes only the base URL and adds the Authorization header.
"""

from __future__ import annotations

import shutil
import subprocess
import threading
from pathlib import Path

import httpx
import pytest
from werkzeug.serving import make_server

HERE = Path(__file__).parent / "seed_clients"
SEEDS = Path(__file__).resolve().parents[2] / "shared" / "seeds"
NODE = shutil.which("node")

pytestmark = [pytest.mark.slow, pytest.mark.skipif(NODE is None, reason="node is not installed (.ci/run installs it)")]


@pytest.fixture()
def live_api(seed_wait, admin_token, worker, simulator):
    app = seed_wait
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", admin_token
    server.shutdown()


def _node(script: str, tmp_path: Path) -> subprocess.CompletedProcess:
    path = tmp_path / "client.mjs"
    path.write_text(script)
    return subprocess.run([NODE, str(path)], capture_output=True, text=True, timeout=120)


def test_the_copies_are_the_seed_documents_own_examples():
    if not SEEDS.is_dir():
        pytest.skip("../shared/seeds is not beside this checkout")
    seeds = "\n".join(p.read_text() for p in SEEDS.glob("*.txt"))
    for copy in HERE.glob("*.js"):
        assert copy.read_text().strip() in seeds, copy.name


def test_the_sync_all_example_prints_its_totals(live_api, tmp_path):
    base, token = live_api
    example = (HERE / "sync_all_platforms.js").read_text().replace("http://localhost:3000", base)
    run = _node(f"const adminToken = {token!r};\n" + example, tmp_path)
    assert run.returncode == 0, run.stderr
    results = httpx.get(f"{base}/platforms").json()["platforms"]
    synced = sum((p["lastResult"] or {}).get("synced", 0) for p in results)
    assert run.stdout.strip() == f"Total: {synced} new, 0 updated" and synced > 0


def test_the_raida_example_reports_success(live_api, tmp_path):
    base, token = live_api
    example = (HERE / "sync_from_raida.js").read_text().replace("http://localhost:8080", base)
    example = example.replace(
        "'Content-Type': 'application/json'", f"'Content-Type': 'application/json', 'Authorization': 'Bearer {token}'"
    )
    run = _node(example, tmp_path)
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    assert "Sync Status: success" in lines and "Sync completed successfully" in lines
    users = int(next(line for line in lines if line.startswith("Users Synced: ")).split(": ")[1])
    assert users == httpx.get(f"{base}/api/data/users", params={"limit": 1}).json().get("total", users) and users > 0
    assert any(line.startswith("Completed at: 20") and line.endswith("Z") for line in lines)


def test_the_student_sync_answers_the_updated_document(live_api):
    base, token = live_api
    headers = {"Authorization": f"Bearer {token}"}
    created = httpx.post(
        f"{base}/api/students",
        headers=headers,
        timeout=30,
        json={"name": "Tour", "email": "t@example.com", "codeforcesHandle": "tourist"},
    )
    assert created.status_code == 201
    r = httpx.post(f"{base}/api/codeforces/sync/tourist", headers=headers, timeout=90)
    assert r.status_code == 200
    doc = r.json()
    assert doc["codeforcesHandle"] == "tourist" and isinstance(doc["currRating"], int)
    assert doc["lastSyncedAt"].endswith("Z") and doc["contestData"] and "lastActiveAt" in doc
    missing = httpx.post(f"{base}/api/codeforces/sync/nobody_here", headers=headers, timeout=30)
    assert missing.status_code == 404 and missing.json()["statusCode"] == 404

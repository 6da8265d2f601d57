"""RabbitMQ as the broker (`SYNCQ_BROKER_URL=amqp://...`): a worker killed whole mid sync-all has
its task redelivered to a new worker at once (Redis would wait out the visibility timeout)."""

from __future__ import annotations

import shutil
import subprocess
import time
import uuid

import pytest

from syncq.embedded import port_open
from tests.procs import Api, Worker, stack_env, wait_until

pytestmark = pytest.mark.slow


@pytest.fixture()
def rabbitmq_url():
    if not port_open("127.0.0.1", 5672) or shutil.which("rabbitmqctl") is None:
        pytest.skip("no RabbitMQ at 127.0.0.1:5672 on this machine")
    vhost = f"syncq-test-{uuid.uuid4().hex[:8]}"
    subprocess.run(["rabbitmqctl", "add_vhost", vhost], check=True, capture_output=True, timeout=60)
    subprocess.run(
        ["rabbitmqctl", "set_permissions", "-p", vhost, "guest", ".*", ".*", ".*"],
        check=True,
        capture_output=True,
        timeout=60,
    )
    yield f"amqp://guest:guest@127.0.0.1:5672/{vhost}"
    subprocess.run(["rabbitmqctl", "delete_vhost", vhost], capture_output=True, timeout=60)


def test_a_worker_killed_mid_sync_all_is_redelivered_at_once_by_rabbitmq(
    rabbitmq_url, simulator, store_db, mongo_uri, admin_token
):
    # The Redis visibility timeout stays at its default (2 hours): only RabbitMQ can bring it back soon.
    env = stack_env(mongo_uri, store_db.name, SYNCQ_HTTP_RETRIES="1", SYNCQ_BROKER_URL=rabbitmq_url)
    api, workers = Api(env), [Worker(env)]
    http = api.client(admin_token)
    try:
        simulator.set_latency("leetcode", 4000)
        job_id = http.post("/contests/sync/all").json()["job_id"]
        wait_until(lambda: any(e["service"] == "leetcode" for e in simulator.log()), 60, "the LeetCode fetch")
        workers[0].kill()  # worker and pool gone: the broker sees the connection drop
        simulator.set_latency("leetcode", 0)
        killed_at = time.monotonic()
        workers.append(Worker(env))
        done = http.get(f"/jobs/{job_id}", params={"wait": 60})
        assert done.status_code == 200, done.text
        assert time.monotonic() - killed_at < 60
        assert [done.json()["results"][p]["failed"] for p in ("codeforces", "leetcode", "atcoder")] == [0, 0, 0]
        assert sum(1 for e in simulator.log() if e["service"] == "leetcode") == 2  # fetched again
        assert store_db.contests.count_documents({}) == 2000 + 650 + 66 + 1805
    finally:
        for worker in workers:
            worker.stop()
        api.stop()

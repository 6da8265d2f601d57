"""Real processes under real faults: a worker killed mid-sync, Redis restarted."""

from __future__ import annotations

import pytest

from tests.procs import Api, Worker, stack_env, wait_until

pytestmark = pytest.mark.slow


@pytest.fixture()
def stack(simulator, store_db, mongo_uri, admin_token):
    env = stack_env(mongo_uri, store_db.name, SYNCQ_HTTP_RETRIES="1")
    api = Api(env)
    started: list[Worker] = []

    def worker(**kw) -> Worker:
        started.append(Worker(env, **kw))
        return started[-1]

    yield api, worker, api.client(admin_token), simulator
    for w in started:
        w.stop()
    api.stop()


def test_worker_process_killed_between_platforms_is_redelivered(stack, store_db):
    api, start_worker, http, sim = stack
    worker = start_worker(concurrency=1)
    sim.set_latency("leetcode", 3000)  # a slow second platform to land the kill in
    job_id = http.post("/contests/sync/all").json()["job_id"]
    # Codeforces is done and LeetCode is being fetched: the sync-all is between platforms.
    wait_until(lambda: any(e["service"] == "leetcode" for e in sim.log()), 60, "the LeetCode fetch")
    assert store_db.contests.count_documents({"platform": "codeforces"}) == 2000
    assert worker.kill_children()
    sim.set_latency("leetcode", 0)
    done = http.get(f"/jobs/{job_id}", params={"wait": 60})
    assert done.status_code == 200, done.text
    results = done.json()["results"]
    assert [results[p]["failed"] for p in ("codeforces", "leetcode", "atcoder")] == [0, 0, 0]
    # The killed step ran again (two LeetCode fetches), and nothing was stored twice.
    assert sum(1 for e in sim.log() if e["service"] == "leetcode") == 2
    assert store_db.contests.count_documents({"platform": "leetcode"}) == 650
    assert store_db.contests.count_documents({}) == 2000 + 650 + 66 + 1805
    assert http.get(f"/jobs/{job_id}").json()["state"] == "SUCCESS"
    # The one-run-at-a-time guard was released: the next trigger is a new job.
    again = http.post("/contests/sync/all").json()
    assert again["job_id"] != job_id and "deduplicated" not in again
    assert http.get(f"/jobs/{again['job_id']}", params={"wait": 60}).status_code == 200


@pytest.fixture()
def short_visibility_stack(simulator, store_db, mongo_uri, admin_token):
    env = stack_env(mongo_uri, store_db.name, SYNCQ_HTTP_RETRIES="1", SYNCQ_VISIBILITY_TIMEOUT="6")
    api = Api(env)
    workers: list[Worker] = []
    yield api, env, workers, api.client(admin_token), simulator
    for w in workers:
        w.stop()
    api.stop()


def test_whole_worker_killed_then_a_new_worker_finishes_after_the_visibility_timeout(short_visibility_stack, store_db):
    api, env, workers, http, sim = short_visibility_stack
    workers.append(Worker(env))
    sim.set_latency("leetcode", 4000)
    job_id = http.post("/contests/sync/all").json()["job_id"]
    wait_until(lambda: any(e["service"] == "leetcode" for e in sim.log()), 60, "the LeetCode fetch")
    workers[0].kill()  # worker and pool gone: the message stays unacknowledged in Redis
    sim.set_latency("leetcode", 0)
    workers.append(Worker(env))  # a new worker gets it back once the visibility timeout passes
    done = http.get(f"/jobs/{job_id}", params={"wait": 60})
    if done.status_code == 202:
        done = http.get(f"/jobs/{job_id}", params={"wait": 60})
    assert done.status_code == 200, done.text
    assert store_db.contests.count_documents({}) == 2000 + 650 + 66 + 1805
    assert http.get(f"/jobs/{job_id}").json()["state"] == "SUCCESS"


class RedisServer:
    """A redis-server of the test's own, keeping an append-only file (as in docker compose)."""

    def __init__(self, directory):
        import shutil

        from syncq.embedded import free_port

        if not shutil.which("redis-server"):
            pytest.skip("redis-server is not installed")  # .ci/ensure-redis installs it on CI
        self.port, self.dir = free_port(), directory
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.start()

    def start(self):
        import subprocess

        from syncq.embedded import port_open

        self.process = subprocess.Popen(
            [
                "redis-server",
                "--bind",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--dir",
                str(self.dir),
                "--appendonly",
                "yes",
                "--appendfsync",
                "always",
                "--save",
                "",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_until(lambda: port_open("127.0.0.1", self.port), 20, "redis-server")

    def stop(self):
        self.process.terminate()
        self.process.wait(20)


@pytest.fixture()
def own_redis_stack(tmp_path, store_db, mongo_uri, admin_token):
    redis_server = RedisServer(tmp_path)
    env = stack_env(mongo_uri, store_db.name, SYNCQ_REDIS_URL=redis_server.url, SYNCQ_VISIBILITY_TIMEOUT="6")
    api = Api(env)
    workers: list[Worker] = []
    yield redis_server, env, workers, api.client(admin_token)
    for w in workers:
        w.stop()
    api.stop()
    redis_server.stop()


def test_redis_restart_loses_no_queued_job_and_the_api_recovers(own_redis_stack):
    redis_server, env, workers, http = own_redis_stack
    queued = http.post("/jobs/ping", json={"echo": "queued before the restart"})
    assert queued.status_code == 202
    redis_server.stop()
    health = http.get("/health")
    assert health.status_code == 503 and health.json()["redis"].startswith("down")
    down = http.post("/jobs/ping")
    assert down.status_code == 503 and "Redis" in down.json()["message"]
    redis_server.start()
    wait_until(lambda: http.get("/health").status_code == 200, 30, "the API to see Redis again")
    workers.append(Worker(env))
    done = http.get(f"/jobs/{queued.json()['job_id']}", params={"wait": 60})
    assert done.status_code == 200 and done.json()["echo"] == "queued before the restart"


def test_redis_restart_during_a_run_the_worker_reconnects(own_redis_stack):
    redis_server, env, workers, http = own_redis_stack
    workers.append(Worker(env))
    assert http.post("/jobs/ping", params={"wait": 30}).status_code == 200
    job_id = http.post("/jobs/ping", json={"delay": 3}).json()["job_id"]
    wait_until(lambda: http.get(f"/jobs/{job_id}").json()["state"] == "STARTED", 30, "the job to start")
    redis_server.stop()
    redis_server.start()
    wait_until(lambda: http.get(f"/jobs/{job_id}").json()["state"] == "SUCCESS", 90, "the job to finish")
    # The worker reconnected: a new job runs too.
    assert http.post("/jobs/ping", params={"wait": 60}).status_code == 200


@pytest.fixture()
def own_store_stack(tmp_path, simulator, redis_url):
    import subprocess
    import sys

    from syncq.embedded import start_secantus
    from tests.procs import ROOT

    server = start_secantus(str(tmp_path / "store"))
    env = stack_env(server.uri, "outage", SYNCQ_STORE_TIMEOUT_MS="800", SYNCQ_HTTP_RETRIES="0")
    subprocess.run(
        [sys.executable, "-m", "syncq.cli", "users", "create", "ops", "--admin", "--password-stdin"],
        input="a-long-password\n",
        text=True,
        env=env,
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    token = subprocess.run(
        [sys.executable, "-m", "syncq.cli", "token", "--sub", "ops"],
        env=env,
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    api = Api(env)
    worker = Worker(env)
    state = {"server": server}
    yield state, tmp_path / "store", api.client(token), simulator
    worker.stop()
    api.stop()
    state["server"].stop()


def test_store_outage_mid_sync_is_retried_with_backoff_and_the_api_answers_503(own_store_stack):
    from syncq.embedded import start_secantus

    state, storage, http, sim = own_store_stack
    sim.set_latency("codechef", 2000)
    job_id = http.post("/contests/sync/codechef").json()["job_id"]
    wait_until(lambda: any(e["service"] == "codechef" for e in sim.log()), 30, "the CodeChef fetch")
    port = state["server"].port
    state["server"].stop()  # MongoDB goes away while the fetch is in flight
    down = http.get(f"/jobs/{job_id}")
    assert down.status_code in (401, 503) and down.json()["message"] in (
        "MongoDB is unavailable; try again shortly",
        "Unauthorized",
    )
    assert http.get("/contests").status_code == 503
    sim.set_latency("codechef", 0)
    # The task's write failed; it is retried with backoff: a second fetch shows the retry.
    wait_until(lambda: sum(e["service"] == "codechef" for e in sim.log()) >= 2, 60, "the retry")
    state["server"] = start_secantus(str(storage), port=port)
    done = http.get(f"/jobs/{job_id}", params={"wait": 60})
    assert done.status_code == 200, done.text
    assert done.json()["synced"] == 66 and http.get("/contests", params={"platform": "codechef"}).json()["count"] == 50

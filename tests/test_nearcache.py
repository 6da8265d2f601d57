"""Per-process memories of users and guard holders: used while nothing changed, dropped on notice."""

from __future__ import annotations

import redis

import store
from syncq import nearcache
from syncq.nearcache import NearCache
from tests.procs import wait_until

ADMIN_ROUTE = "/jobs"


def _listening() -> None:
    nearcache.generation()  # starts this process's listener
    wait_until(nearcache._listener.live, 10, "the near-cache listener to subscribe")


def _behind_syncqs_back(redis_url: str, username: str = "admin") -> None:
    """Delete the user from the store and Redis without telling anyone."""
    store.db().users.delete_many({"username": username})
    raw = redis.Redis.from_url(redis_url)
    for key in raw.scan_iter(f"syncq:user:*:{username}"):
        raw.delete(key)


def _remembered(client, admin_headers) -> None:
    """Request until this process remembers the admin (a stray notice mid-read skips keeping it)."""
    import store.users as users

    key = f"syncq:user:{store.db().name}:admin"
    wait_until(lambda: client.get(ADMIN_ROUTE, headers=admin_headers).status_code == 200 and users._near.get(key),
               10, "the user to be remembered")


def test_a_users_check_is_answered_from_memory_while_nothing_changed(client, admin_headers, redis_url):
    _listening()
    _remembered(client, admin_headers)
    _behind_syncqs_back(redis_url)
    assert client.get(ADMIN_ROUTE, headers=admin_headers).status_code == 200  # no Redis read made


def test_a_user_deleted_by_another_process_stops_here_once_its_notice_arrives(client, admin_headers, redis_url):
    _listening()
    _remembered(client, admin_headers)
    _behind_syncqs_back(redis_url)
    key = f"syncq:user:{store.db().name}:admin"
    nearcache.forget(redis.Redis.from_url(redis_url), key)  # what `syncq users delete` elsewhere sends
    wait_until(lambda: client.get(ADMIN_ROUTE, headers=admin_headers).status_code == 401, 10,
               "the deleted user's token to stop")


def test_a_lost_subscription_stops_the_memory_being_trusted(client, admin_headers, redis_url):
    _listening()
    _remembered(client, admin_headers)
    _behind_syncqs_back(redis_url)
    raw = redis.Redis.from_url(redis_url, decode_responses=True)
    listeners = [c["id"] for c in raw.client_list() if c.get("name") == nearcache.LISTENER_NAME]
    assert listeners
    for client_id in listeners:
        raw.client_kill_filter(_id=client_id)
    wait_until(lambda: client.get(ADMIN_ROUTE, headers=admin_headers).status_code == 401, 10,
               "the memory to be dropped")
    _listening()  # and it comes back by itself


def test_a_guards_holder_is_remembered_until_its_release_is_announced(store_db, redis_url):
    from core.redisconn import get_redis
    from workers import jobs

    _listening()
    client = get_redis()
    assert jobs._take_guard(client, "near-test", "job-a") is None
    assert jobs._take_guard(client, "near-test", "job-b") == "job-a"  # read from Redis
    wait_until(lambda: jobs._take_guard(client, "near-test", "job-b") == "job-a"
               and jobs._holders.get("syncq:guard:near-test") == "job-a", 10, "the holder to be remembered")
    client.delete("syncq:guard:near-test")  # behind syncq's back: the memory still answers
    assert jobs._take_guard(client, "near-test", "job-b") == "job-a"
    nearcache.forget(redis.Redis.from_url(redis_url), "syncq:guard:near-test")  # a release elsewhere
    wait_until(lambda: jobs._holders.get("syncq:guard:near-test") is None, 10, "the holder to be forgotten")
    assert jobs._take_guard(client, "near-test", "job-c") is None  # free: taken anew
    jobs.job_ended("job-c", "SUCCESS")  # releasing it here forgets it here at once
    assert jobs._holders.get("syncq:guard:near-test") is None
    assert jobs._take_guard(client, "near-test", "job-d") is None
    jobs.release_guard("near-test", "job-d")


def test_a_value_read_while_a_notice_arrived_is_not_kept(redis_url):
    _listening()
    memory = NearCache(max_age=60)
    before = nearcache.generation()
    nearcache.forget(redis.Redis.from_url(redis_url), "some-other-key")  # might have been about ours
    wait_until(lambda: nearcache.generation() != before, 10, "the notice to arrive")
    memory.put("k", "old value", before)
    assert memory.get("k") is None
    memory.put("k", "fresh value", nearcache.generation())
    assert memory.get("k") == "fresh value"

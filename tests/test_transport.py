"""The broker transport: kombu's Redis transport, publishing through one client per channel."""

from __future__ import annotations

import uuid

import redis
from kombu import Connection

from workers.transport import Transport


def test_the_project_app_publishes_through_the_caching_transport():
    from workers import app

    with app.connection_for_write() as conn:
        assert isinstance(conn.transport, Transport)


def test_messages_go_out_through_one_client_per_pool_and_all_arrive(redis_url, monkeypatch):
    made = []
    real_init = redis.Redis.__init__

    def counting_init(self, *args, **kwargs):
        made.append(self)
        real_init(self, *args, **kwargs)

    queue_name = f"t-transport-{uuid.uuid4().hex[:8]}"
    with Connection(redis_url, transport="workers.transport:Transport") as conn:
        queue = conn.SimpleQueue(queue_name)
        queue.put({"n": 0})  # the channel's clients are made on first use
        monkeypatch.setattr(redis.Redis, "__init__", counting_init)
        for n in range(1, 5):
            queue.put({"n": n})
        assert made == []  # kombu's own channel would have made one client per message
        assert [queue.get(timeout=5).payload["n"] for _ in range(5)] == [0, 1, 2, 3, 4]

        channel = queue.channel
        before = channel._create_client()
        channel._disconnect_pools()  # what a fork or a reconnect does: the old pool is gone
        after = channel._create_client()
        assert after is not before and after.connection_pool is channel.pool
        assert after.ping()
        queue.clear()
        queue.close()

"""kombu's Redis transport, with one publishing client per channel instead of one per publish.

kombu 5.7's Redis channel builds a new `redis.Redis` object for every message it publishes, every
task event it sends and every queue it sizes (`Channel.conn_or_acquire`). With redis-py 8 building
one costs ~0.25 ms of CPU (its deprecation-argument checks, and ~170 response callbacks copied into
a case-insensitive dict): a sixth of what an API trigger spent, and a share of every task event
a worker sends (docs/benchmarks-notes.md). The objects differ in nothing but identity: each
borrows connections from the channel's one pool, so one object per pool serves every caller
(a `redis.Redis` over a pool is thread-safe). Selected in `workers.celery_app.configure`.
"""

from __future__ import annotations

from kombu.transport import redis as kombu_redis


class Channel(kombu_redis.Channel):
    """A Redis channel that keeps its synchronous client for as long as its connection pool."""

    _sync_client = None

    def _create_client(self, asynchronous: bool = False):
        if asynchronous:
            return super()._create_client(asynchronous=True)
        pool = self.pool
        client = self._sync_client
        # A new pool (after a fork or a reconnect drops the old one) gets a new client.
        if client is None or client.connection_pool is not pool:
            client = self._sync_client = super()._create_client()
        return client


class Transport(kombu_redis.Transport):
    """kombu's Redis transport over `Channel`."""

    Channel = Channel

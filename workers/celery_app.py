"""The Celery app, configured from the same settings as the API."""

from __future__ import annotations

from celery import Celery
from celery.signals import worker_process_init
from kombu import Queue

import schedules
from core.settings import Settings, get_settings

TASK_MODULES = ["workers.system", "workers.contests", "workers.students", "workers.raida"]


def configure(app: Celery, settings: Settings) -> None:
    """Apply `settings` to `app` (broker, results, delivery guarantees, events, beat)."""
    transport = {
        # An unacknowledged task goes back to the queue only after this many seconds:
        # longer than any task, or a slow task would run twice.
        "visibility_timeout": settings.visibility_timeout,
        "socket_connect_timeout": 2,
        "socket_timeout": 10,
        # Queues are read in the order listed (not kombu's default round robin): a worker takes
        # the manual queue's tasks before any queued background work.
        "queue_order_strategy": "priority",
    }
    manual = f"{settings.queue}.manual"
    app.conf.update(
        broker_url=settings.redis_url,
        # kombu's Redis transport with one publishing client per channel (workers/transport.py);
        # other schemes (rediss://, sentinel://) keep kombu's own.
        broker_transport="workers.transport:Transport" if settings.redis_url.startswith("redis://") else None,
        result_backend=settings.redis_url,
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        task_default_queue=settings.queue,
        # An operator's one-student sync goes ahead of queued background work (a worker started
        # without -Q consumes both, the manual queue first).
        task_queues=[Queue(manual), Queue(settings.queue)],
        task_routes={"syncq.students.sync_student": {"queue": manual}},
        # At-least-once delivery: ack after the task ran, and hand the task to another
        # worker if this one dies mid-run. Every task's writes are idempotent upserts.
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_track_started=True,
        worker_send_task_events=True,
        task_send_sent_event=True,
        result_extended=True,
        result_expires=settings.result_expires,
        broker_transport_options=transport,
        result_backend_transport_options=transport,
        redis_socket_connect_timeout=2,
        redis_socket_timeout=10,
        broker_connection_retry_on_startup=True,
        # Enqueueing with Redis down must fail fast (the API answers 503), not hang.
        task_publish_retry_policy={"max_retries": 2, "interval_start": 0.1,
                                   "interval_step": 0.2, "interval_max": 0.5},
        timezone="UTC",
        enable_utc=True,
        beat_schedule=schedules.beat_schedule(settings),
        # RedBeat keeps the schedule in Redis behind a lock: a second beat waits as a standby.
        redbeat_redis_url=settings.redis_url,
        redbeat_key_prefix=f"syncq:{settings.queue}:redbeat",
        # The active beat renews its lock every tick (at most every 10 s); a standby takes
        # over within a minute of the active one dying.
        beat_max_loop_interval=10,
        redbeat_lock_timeout=60,
        worker_hijack_root_logger=False,
    )


def create_celery(settings: Settings | None = None) -> Celery:
    """A Celery app named `syncq` with every task module included."""
    app = Celery("syncq", include=TASK_MODULES)
    configure(app, settings or get_settings())
    return app


app = create_celery()


@worker_process_init.connect
def _fresh_connections_after_fork(**_kwargs) -> None:
    # pymongo clients are not fork-safe: each prefork child opens its own.
    import store

    store.reset_after_fork()

"""The Celery app, configured from the same settings as the API.

Job bookkeeping is wired in here once, by name: `jobs.lifecycle` connects to Celery's task
signals in every worker, and `jobs.launch` is what beat runs.
"""

from __future__ import annotations

from celery import Celery
from celery.signals import beat_init, worker_process_init
from kombu import Queue

import schedules
from core.settings import Settings, get_settings

TASK_MODULES = [
    "workers.system",
    "workers.contests",
    "workers.students",
    "workers.raida",
    "workers.webhooks",
    "workers.maintenance",
]
JOB_MODULES = ["jobs.lifecycle", "jobs.launch"]


def configure(app: Celery, settings: Settings) -> None:
    """Apply `settings` to `app` (broker, delivery guarantees, events, beat)."""
    broker = settings.broker_url or settings.redis_url
    transport: dict[str, int | str] = {"socket_connect_timeout": 2, "socket_timeout": 10}
    if broker.startswith(("redis://", "rediss://")):
        # An unacknowledged task goes back to the queue only after this many seconds: longer
        # than any task's time limit, or a slow task would run twice.
        transport["visibility_timeout"] = settings.visibility_timeout
        # Queues are read in the order listed (not kombu's default round robin): a worker takes
        # the manual queue's tasks before any queued background work.
        transport["queue_order_strategy"] = "priority"
    manual = f"{settings.queue}.manual"
    app.conf.update(
        broker_url=broker,
        # No result backend: a job's state and result live in its MongoDB record (jobs.lifecycle).
        result_backend=None,
        task_ignore_result=True,
        task_serializer="json",
        accept_content=["json"],
        task_default_queue=settings.queue,
        # An operator's one-student sync goes ahead of queued background work: a worker started
        # without -Q consumes both, and with Redis reads the manual queue first (the priority order
        # above). RabbitMQ has no such order: there the manual queue is consumed beside the other,
        # so a manual sync waits at most for the tasks the worker already holds (prefetch 1).
        task_queues=[Queue(manual), Queue(settings.queue)],
        task_routes={"syncq.students.sync_student": {"queue": manual}},
        # At-least-once delivery: ack after the task ran, and hand the task to another
        # worker if this one dies mid-run. Every task's writes are idempotent upserts.
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        worker_send_task_events=True,
        task_send_sent_event=True,
        broker_transport_options=transport if broker.startswith(("redis://", "rediss://")) else {},
        broker_connection_retry_on_startup=True,
        # Enqueueing with the broker down must fail fast (the API answers 503), not hang.
        task_publish_retry_policy={"max_retries": 2, "interval_start": 0.1, "interval_step": 0.2, "interval_max": 0.5},
        timezone="UTC",
        enable_utc=True,
        imports=JOB_MODULES,
        # No static beat_schedule: the entries live in Redis (RedBeat), changed at run time through
        # the API, and are seeded from the settings at beat start where none is stored (schedules.py).
        # RedBeat keeps the schedule in Redis behind a lock: a second beat waits as a standby.
        redbeat_redis_url=settings.redis_url,
        redbeat_key_prefix=f"syncq:{settings.queue}:redbeat",
        # Given explicitly (RedBeat's fallback to the broker's options is deprecated): the API reads
        # and changes schedules through this client too, and must fail fast when Redis is down.
        redbeat_redis_options={"socket_connect_timeout": 2, "socket_timeout": 10},
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


@beat_init.connect
def _seed_schedules(sender, **_kwargs) -> None:
    schedules.seed(sender.app)


@worker_process_init.connect
def _fresh_connections_after_fork(**_kwargs) -> None:
    # pymongo clients are not fork-safe: each prefork child opens its own.
    import store

    store.reset_after_fork()

"""syncq's Celery workers: `celery -A workers worker` and `celery -A workers beat`."""

from workers import observe  # noqa: F401  (the event log and retry counts in every worker process)
from workers.celery_app import app

celery = app

__all__ = ["app", "celery"]

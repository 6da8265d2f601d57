"""syncq's Celery workers: `celery -A workers worker` and `celery -A workers beat`."""

from workers.celery_app import app

celery = app

__all__ = ["app", "celery"]

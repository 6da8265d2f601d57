"""Celery app variants that tests start in child processes."""

"""gunicorn settings for the API (`gunicorn --config python:syncq.gunicorn_conf 'api:create_app()'`).

Threaded workers, because `?wait=N` holds a request open while a job runs.
"""

import os

bind = os.environ.get("SYNCQ_API_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("SYNCQ_API_WORKERS", "2"))
worker_class = "gthread"
threads = int(os.environ.get("SYNCQ_API_THREADS", "16"))
timeout = 90  # above the longest ?wait= (60 s)
accesslog = "-"

"""gunicorn settings for the API (`gunicorn --config python:syncq.gunicorn_conf 'api:create_app()'`).

Threaded workers, because a trigger (or `?wait=N`) holds its request open while a job runs.
"""

import gc

from core.settings import get_settings

_settings = get_settings()
bind = _settings.api_bind
workers = _settings.api_workers
worker_class = "gthread"
threads = _settings.api_threads
# A gthread worker tells the arbiter it is alive from its main loop, not from the threads serving
# requests, so a request waiting up to SYNCQ_SYNC_WAIT on its job never counts against this.
timeout = 90
accesslog = "-"
# No control socket: its default path (~/.gunicorn/gunicorn.ctl) is one per user, so two APIs on one
# host (or a benchmark's second gunicorn) would share it, and the first to stop would remove it.
control_socket_disable = True


def post_worker_init(worker) -> None:
    """Once a worker has loaded the app: what exists now lives as long as the process, so it is
    moved out of the collector's sight and a full collection (paid by the request that triggers
    it) no longer walks it."""
    gc.freeze()

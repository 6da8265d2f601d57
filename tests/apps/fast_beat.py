"""syncq's Celery app with an extra beat entry every second (for the two-beats test)."""

from workers import app

app.conf.beat_schedule = {
    "ping-every-second": {"task": "syncq.jobs.launch", "schedule": 1.0, "kwargs": {"kind": "ping", "trigger": "beat"}},
}
app.conf.redbeat_key_prefix = f"{app.conf.redbeat_key_prefix}:fastbeat"

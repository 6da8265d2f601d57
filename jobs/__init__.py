"""The job service: what an operator asked for (a sync-all, a student, a RAIDA sync), from enqueue
to its end.

- `jobs.kinds`: the job catalog, every kind declared once (see the README's "Adding a job kind").
- `jobs.service`: enqueue (guard, record, hand to the broker) and wait for a job's end.
- `jobs.guards`: one run at a time, with redis-py's `Lock` (token = the job's id).
- `jobs.lifecycle`: the one place a job's life is written (started, progress, retry, end),
  wired into Celery once, by its signals; tasks only return results or raise.
"""

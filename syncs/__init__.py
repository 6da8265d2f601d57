"""Sync services: fetch through an adapter, write through the store, return a result.

One module per thing syncq keeps in step (contests, students, the RAIDA network). They know
nothing of Celery or HTTP: a task calls them, and they report progress and events through
`core.signals`.
"""

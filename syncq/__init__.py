"""syncq: background sync workers that keep MongoDB in step with outside services."""

__version__ = "0.1.0"

"""syncq's core: settings read once, and the Redis client every layer above shares."""

__version__ = "0.1.0"

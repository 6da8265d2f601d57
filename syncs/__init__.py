"""Sync services: fetch through an adapter, write through the store, return a result."""

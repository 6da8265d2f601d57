"""Sync domain code: what a sync does with what an adapter fetched, and what it records about it."""

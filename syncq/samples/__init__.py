"""Realistic, deterministic payloads of every outside service, in their real formats.

Served by the platform simulator, and written as the recorded test fixtures by
`python -m syncq.samples tests/fixtures`.
"""

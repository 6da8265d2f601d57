"""Adapters: one module per outside system, registered by name.

A contest adapter exposes `NAME`, `fetch(client, settings) -> payload` (the only I/O)
and a pure `parse(payload) -> ParseResult`; see `adapters.registry`.
"""

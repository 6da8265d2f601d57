"""The example plugin's own tests: its recorded answer parses right, and syncq finds it installed."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from importlib.metadata import entry_points
from pathlib import Path

from syncq_source_example import judgeville

from adapters import source

RECORDED = Path(__file__).parent / "fixtures" / "judgeville_contests.json"
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def parsed():
    return source.finish(judgeville.SOURCE, judgeville.parse(json.loads(RECORDED.read_text())), NOW)


def test_the_recorded_answer_parses_into_contests_with_berlin_times_made_utc():
    result = parsed()
    assert result.failed == [] and len(result.records) == 8
    first = result.records[0]
    assert first.platform == "judgeville" and first.platformId == "jv-cup-40"
    assert first.name == "Judgeville Cup #40"
    # "2026-10-23 18:00" in Berlin is summer time (UTC+2); the 150/120-minute lengths make the end.
    assert first.startTime == datetime(2026, 10, 23, 16, 0, tzinfo=UTC)
    assert first.endTime == datetime(2026, 10, 23, 18, 0, tzinfo=UTC)
    assert first.durationSeconds == 7200
    assert first.url == "https://judgeville.example/contests/jv-cup-40"
    assert first.phase == "FINISHED" and first.raw["rated"] is False
    winter = result.records[4]  # "2026-11-20 18:00": winter time (UTC+1)
    assert winter.startTime == datetime(2026, 11, 20, 17, 0, tzinfo=UTC) and winter.phase == "UPCOMING"


def test_a_renamed_contest_names_its_former_key():
    result = parsed()
    assert result.renamed == {"jv-cup-46-final": "jv-cup-46"}


def test_the_package_registers_its_source_in_the_syncq_sources_group():
    points = {point.name: point for point in entry_points(group="syncq.sources")}
    assert points["judgeville"].load() is judgeville
    assert source.check(judgeville).host == "judgeville.example"

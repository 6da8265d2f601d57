"""Settings of the students: Codeforces profiles, background syncs, reminders."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings


class Students(BaseSettings):
    """Students."""

    cf_rate_per_second: float = Field(
        default=0.5, ge=0.001, description="the Codeforces rate limit shared by all workers"
    )
    cf_rate_burst: int = Field(default=3, ge=1, description="the burst of that rate limit")
    cache_info_ttl: int = Field(default=6 * 3600, ge=1, description="student cache lifetime of `user.info`, seconds")
    cache_contest_ttl: int = Field(
        default=6 * 3600, ge=1, description="student cache lifetime of contest data, seconds"
    )
    cache_submissions_ttl: int = Field(
        default=2 * 3600, ge=1, description="student cache lifetime of submissions, seconds"
    )
    cf_batch_handles: int = Field(default=300, ge=1, description="most handles in one background `user.info` call")
    cf_batch_url_bytes: int = Field(
        default=8192, ge=256, description="the longest `user.info` URL a background batch may make"
    )
    cf_background_concurrency: int = Field(
        default=8, ge=1, description="background Codeforces calls in flight at once (the shared limit still paces them)"
    )
    cf_rating_wait_days: int = Field(
        default=3,
        ge=0,
        description="days a finished contest without rating changes yet is asked about again before it counts "
        "as unrated",
    )
    students_schedule_enabled: bool = Field(
        default=True, description="whether beat entry `sync-all-students` is on by default"
    )
    students_schedule_cron: str = Field(
        default="0 3 * * *", description="default cron of beat entry `sync-all-students` (UTC)"
    )
    student_time_limit: int = Field(
        default=300,
        ge=5,
        description="seconds one student's sync may run: then the task is stopped (soft limit; killed 30 s later), "
        "its guard released and its job failed with that reason",
    )
    students_all_time_limit: int = Field(
        default=6600, ge=5, description="the same for the background sync of every student (killed 60 s later)"
    )
    inactive_days: int = Field(
        default=7, ge=1, description="days without an OK submission before a student gets an inactivity reminder"
    )
    smtp_url: str = Field(
        default="",
        description="`smtp://user:pass@host:587?starttls=true`, or `smtps://user:pass@host:465`; empty: no emails",
    )
    smtp_from: str = Field(default="syncq <syncq@localhost>", description="the reminders' sender")

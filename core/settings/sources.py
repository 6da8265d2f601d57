"""Settings of the contest sources: each built-in platform, source plugins and clist.by."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode


class ContestSources(BaseSettings):
    """Contest sources."""

    codeforces_url: str = Field(
        default="https://codeforces.com", description="base URL; the real paths are appended, a path prefix is allowed"
    )
    leetcode_url: str = Field(default="https://leetcode.com", description="base URL of LeetCode")
    codechef_url: str = Field(default="https://www.codechef.com", description="base URL of CodeChef")
    atcoder_url: str = Field(default="https://atcoder.jp", description="base URL of AtCoder")
    kenkoooo_url: str = Field(
        default="https://kenkoooo.com",
        validation_alias=AliasChoices("kenkoooo_url", "SYNCQ_KENKOOO_URL"),
        description="base URL of kenkoooo's AtCoder Problems API",
    )
    platform_order: Annotated[tuple[str, ...], NoDecode] = Field(
        default=("codeforces", "leetcode", "codechef", "atcoder"), description="sync-all order (comma-separated)"
    )
    codeforces_gym_enabled: bool = Field(
        default=False, description="adds the platform `codeforces_gym` (`contest.list?gym=true`, links to `/gym/<id>`)"
    )
    codechef_max_past_pages: int = Field(
        default=10,
        ge=0,
        description="CodeChef's `/all` lists only the 20 newest past contests; older ones are paged from `/past` "
        "(20 a page) until a page holds only stored contests, at most this many pages (what bounds a first sync)",
    )
    leetcode_max_past_pages: int = Field(
        default=10,
        ge=0,
        description="when `allContests` fails, LeetCode contests come from `topTwoContests` and `pastContests` "
        "pages (10 a page) until a page holds only stored contests, at most this many",
    )
    contests_schedule_enabled: bool = Field(
        default=True, description="whether beat entry `sync-all-contests` is on by default; see [Schedules](#schedules)"
    )
    contests_schedule_hours: int = Field(
        default=6, ge=1, description="default of beat entry `sync-all-contests`: minute 0, every N hours, UTC"
    )
    contest_time_limit: int = Field(
        default=600,
        ge=5,
        description="seconds one platform's sync may run: then it is stopped (soft limit; killed 30 s later) "
        "and reported as that platform's failure",
    )


class SourcePlugins(BaseSettings):
    """Contest sources: plugins and clist.by."""

    source_plugins: Annotated[tuple[str, ...], NoDecode] = Field(
        ("*",),
        description="the source plugins (entry-point group `syncq.sources`) to load, by name, comma-separated; "
        "`*` every installed one, `none` none",
    )
    source_urls: Annotated[tuple[tuple[str, str], ...], NoDecode] = Field(
        (),
        description="base URLs of sources by name, `name=url` comma-separated (a plugin reads its site at "
        "`https://<its host>` otherwise)",
    )
    clist_username: str = Field("", description="clist.by account name; with the API key it turns clist.by on")
    clist_api_key: SecretStr = Field(
        SecretStr(""), description="clist.by API key (sent as `Authorization: ApiKey user:key`, never logged)"
    )
    clist_url: str = Field("https://clist.by", description="clist.by's base URL")
    clist_resources: Annotated[tuple[str, ...], NoDecode] = Field(
        (
            "topcoder.com",
            "hackerrank.com",
            "hackerearth.com",
            "geeksforgeeks.org",
            "yukicoder.me",
            "dmoj.ca",
            "open.kattis.com",
            "toph.co",
            "luogu.com.cn",
            "ac.nowcoder.com",
        ),
        description="the clist.by resources (hosts, comma-separated) imported, each as a platform of its own; "
        "hosts a built-in source covers are left out",
    )
    clist_rate_per_minute: float = Field(
        10.0, gt=0, le=600, description="clist.by calls a minute, shared by every worker (clist allows 10)"
    )
    clist_days_back: int = Field(
        30, ge=0, le=3650, description="days of finished contests each clist.by sync reads (it lists upcoming ones too)"
    )

    @field_validator("source_plugins", "clist_resources", mode="before")
    @classmethod
    def _source_list(cls, value: Any) -> Any:
        if isinstance(value, str):
            return tuple(part.strip().lower() for part in value.split(",") if part.strip())
        return value

    @field_validator("source_urls", mode="before")
    @classmethod
    def _source_urls(cls, value: Any) -> Any:
        if not isinstance(value, str):
            return value
        pairs = []
        for part in (p.strip() for p in value.split(",") if p.strip()):
            name, sep, url = part.partition("=")
            if not sep or not name.strip() or not url.strip().startswith(("http://", "https://")):
                raise ValueError(f"must be name=http(s)-url pairs, got {part!r}")
            pairs.append((name.strip(), url.strip().rstrip("/")))
        return tuple(pairs)

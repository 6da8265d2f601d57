"""The platform simulator: one local HTTP server imitating every outside service syncq uses.

Services, each under a path prefix on one port (the adapters' real paths follow):
`/codeforces` (contest.list, contest.ratingChanges, user.info with many `handles=a;b`, user.rating,
user.status), `/leetcode` (POST /graphql), `/codechef` (/api/list/contests/all and /past),
`/atcoder` (/contests/), `/kenkoooo`
(/atcoder/resources/contests.json), `/clist` (clist.by's /api/v4/contest/, which wants an
`Authorization: ApiKey user:key` header; the key `bad` is refused), `/judgeville`
(/api/contests.json, the example source plugin's made-up site) and `/raida0` .. `/raida24` (/service/echo, users,
qmail_servers, raida_servers). The 25 RAIDA also answer the network's binary echo over UDP and
TCP on local ports of their own (`syncq.simulator.echo`), which the simulated `raida_servers`
list names. `base_urls(root)` gives the SYNCQ_* variables pointing at it; `clist_env(root)` also
turns clist.by on against it (an account of its own, no rate limit to wait for).

Controls (JSON, at run time; the same as the `Simulator` methods):
- `GET /_sim/state`; `POST /_sim/reset`
- `POST /_sim/latency {"service", "ms", "index"?}`
- `POST /_sim/fault {"service", "mode" (null clears), "times"?, "index"?, "retry_after"?}`,
  modes: timeout, 500, 429, html, truncated, wrong_shape, empty, absurd, call_limit, down
- `POST /_sim/raida/<i> {"down": true}` or `{"mode": ...}`
- `POST /_sim/codeforces/limit {"calls_per_second": N}` (answers FAILED Call limit exceeded above it)
- `POST /_sim/leetcode/all_contests {"gone": true}`: `allContests` answers a GraphQL error (the
  adapter then falls back to `topTwoContests` and `pastContests`)
- `POST /_sim/codeforces/round {"fraction", "submissions"?, "rated_contest"?, "prefix"?, "count"?, "handles"?}`:
  a day between syncs: that fraction of students is online with new submissions; with `rated_contest`
  a contest finishes and half of the active ones in the population (`prefix`+0000.., `handles`) take part
- `POST /_sim/codeforces/missing {"handles": [...]}`: these handles answer "not found" (renamed accounts)
- `POST /_sim/students/<handle>/submissions {"count": N}`; `POST /_sim/contests/codeforces/<id> {...}`
- `POST /_sim/barrier {"parties": N, "timeout"?}`: hold each request until N are inside at once
  (proves a client's fan-out by a condition; `{"parties": null}` clears it)
- `GET /_sim/log` (every request with wall and monotonic start/end), `DELETE /_sim/log`

Simulated students: `tourist`, `petr`, `jiangly`, `benq`, `heavy_10k` (10,000 submissions) and
any `student_NNNN`; any other handle is not found.
"""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime
from typing import Any

from werkzeug.serving import make_server

from syncq.simulator.app import create_app
from syncq.simulator.echo import BinaryEcho
from syncq.simulator.platforms import Data
from syncq.simulator.state import SimState


def base_urls(root: str) -> dict[str, str]:
    """The SYNCQ_* variables that point syncq at a simulator at `root` (e.g. http://127.0.0.1:9000):
    its base URLs, and leave to echo its RAIDA on loopback."""
    root = root.rstrip("/")
    return {
        "SYNCQ_CODEFORCES_URL": f"{root}/codeforces",
        "SYNCQ_LEETCODE_URL": f"{root}/leetcode",
        "SYNCQ_CODECHEF_URL": f"{root}/codechef",
        "SYNCQ_ATCODER_URL": f"{root}/atcoder",
        "SYNCQ_KENKOOO_URL": f"{root}/kenkoooo",
        "SYNCQ_RAIDA_URL_TEMPLATE": f"{root}/raida{{i}}",
        "SYNCQ_CLIST_URL": f"{root}/clist",
        "SYNCQ_SOURCE_URLS": f"judgeville={root}/judgeville",
        # Its RAIDA answer the binary echo on loopback ports, which syncq refuses unless told.
        "SYNCQ_RAIDA_ALLOW_PRIVATE": "true",
    }


def clist_env(root: str) -> dict[str, str]:
    """The SYNCQ_CLIST_* variables that turn clist.by on against the simulator at `root`."""
    return {
        "SYNCQ_CLIST_URL": f"{root.rstrip('/')}/clist",
        "SYNCQ_CLIST_USERNAME": "simulated",
        "SYNCQ_CLIST_API_KEY": "simulated-key",
        "SYNCQ_CLIST_RATE_PER_MINUTE": "600",
    }


class Simulator:
    """The simulator in a background thread: `start()`, `url`, `stop()`, and the controls."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, now: datetime | None = None):
        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request
        self.state = SimState()
        self.data = Data(now or datetime.now(UTC))
        self.app = create_app(self.state, self.data)
        self.server = make_server(host, port, self.app, threaded=True)
        self.echo = BinaryEcho(self.state, host)
        self.thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{self.server.host}:{self.server.server_port}"

    def start(self) -> Simulator:
        self.echo.start()
        self.data.raida = self.echo.raida_list()  # the directory names the binary echo's ports
        self.thread = threading.Thread(target=self.server.serve_forever, name="simulator", daemon=True)
        self.thread.start()
        return self

    def stop(self) -> None:
        self.state.stopping.set()
        self.server.shutdown()
        self.server.server_close()
        self.echo.stop()

    def __enter__(self) -> Simulator:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    def env(self) -> dict[str, str]:
        """The SYNCQ_* variables that point every adapter here."""
        return base_urls(self.url)

    # Controls, mirroring the /_sim routes.
    def set_fault(
        self,
        service: str,
        mode: str | None,
        times: int | None = None,
        status: int | None = None,
        retry_after: int = 1,
        index: int | None = None,
    ) -> None:
        self.state.set_fault(service, mode, times=times, index=index, retry_after=retry_after, status=status)

    def set_latency(self, service: str, ms: float, index: int | None = None) -> None:
        self.state.set_latency(service, ms, index)

    def set_raida_down(self, indexes, mode: str = "down") -> None:
        for index in indexes:
            self.state.set_fault("raida", mode, index=index)

    def hold_until(self, parties: int | None, timeout: float = 30.0) -> None:
        self.state.hold_until(parties, timeout)

    def add_submissions(self, handle: str, n: int) -> None:
        with self.state.lock:
            self.state.extra_submissions[handle.lower()] = self.state.extra_submissions.get(handle.lower(), 0) + n

    def codeforces_round(
        self, fraction: float, submissions: int = 3, rated_contest: bool = False, population: list[str] | None = None
    ) -> dict[str, Any]:
        return self.state.cf_rounds.advance(fraction, submissions, rated_contest, population)

    def set_missing(self, handles) -> None:
        with self.state.cf_rounds.lock:
            self.state.cf_rounds.missing = {h.lower() for h in handles}

    def log(self) -> list[dict[str, Any]]:
        with self.state.lock:
            return list(self.state.log)

    def clear_log(self) -> None:
        with self.state.lock:
            self.state.log.clear()

    def reset(self) -> None:
        self.state.reset()


def main(argv: list[str] | None = None) -> int:
    """`syncq simulate`: serve until Ctrl-C (see `syncq.simulator.cli`)."""
    from syncq.simulator.cli import run_from_argv

    return run_from_argv(argv)

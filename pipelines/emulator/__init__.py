"""A Jira Cloud and Data Center emulator: a real HTTP server on 127.0.0.1.

with Emulator(issues=50, seed=7, flavor="cloud") as emu:
    httpx.get(emu.site_url + "/rest/api/3/myself", auth=(emu.email, emu.classic_token))
"""

from __future__ import annotations

import datetime as dt
import threading
import uuid
from collections import Counter
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from pipelines.emulator import items
from pipelines.emulator.faults import Faults
from pipelines.emulator.items import comment_truth, worklog_truth
from pipelines.emulator.ratelimit import RateLimiter
from pipelines.emulator.script import Script
from pipelines.emulator.server import ALL_SCOPES, EmulatorHTTPServer
from pipelines.emulator.store import Store, ms_to_datetime, project_index

__all__ = ["Emulator"]

# The recorded payloads kept with the tests of a source checkout.
DEFAULT_SAMPLES_DIR = Path(__file__).resolve().parents[2] / "tests" / "jira-samples"


class Emulator:
    """A Jira site on 127.0.0.1 with deterministic generated issues.

    Args:
        issues: number of generated issues.
        seed: seed of the generated data; equal seeds give equal data for the same `start`.
        flavor: `cloud` (site root plus gateway prefix) or `dc` (Data Center, v2 only).
        time_zone: profile zone of the calling account, used for JQL dates and timestamps.
        latency_ms: delay added to every API request.
        samples_dir: folder of recorded payloads; default `tests/jira-samples` of the source
            checkout when it exists.
        port: port to bind on 127.0.0.1; 0 picks a free one.
        start: the clock's initial instant; default the current time.
        rate_limit: requests allowed per second of wall-clock time; None sends no rate limit
            headers and never returns 429 on its own.
    """

    def __init__(
        self,
        issues: int = 50,
        seed: int = 7,
        flavor: str = "cloud",
        time_zone: str = "America/Los_Angeles",
        latency_ms: int = 0,
        samples_dir: str | Path | None = None,
        port: int = 0,
        start: dt.datetime | None = None,
        rate_limit: int | None = None,
    ) -> None:
        if flavor not in ("cloud", "dc"):
            raise ValueError(f"Invalid flavor `{flavor}`: expected `cloud` or `dc`.")
        ZoneInfo(time_zone)
        self.flavor = flavor
        self.time_zone = time_zone
        self.latency_ms = latency_ms
        self.samples_dir = (
            Path(samples_dir)
            if samples_dir
            else (DEFAULT_SAMPLES_DIR if DEFAULT_SAMPLES_DIR.is_dir() else None)
        )
        self.port = port
        self.store = Store(issues, seed, start)
        names = uuid.UUID(int=seed * 7919 + 1)
        self.cloud_id = str(uuid.uuid5(names, "cloud"))
        self.org_id = str(uuid.uuid5(names, "org"))
        self.email = "alice@example.com"
        self.classic_token = "ATATT3xFfGF0-classic-" + uuid.uuid5(names, "classic").hex[:24]
        self.scoped_token = "ATATT3xFfGF0-scoped-" + uuid.uuid5(names, "scoped").hex[:24]
        self.pat = "NjE4" + uuid.uuid5(names, "pat").hex
        self.tokens: dict[str, frozenset[str]] = {self.scoped_token: ALL_SCOPES}
        self.faults = Faults(seed)
        self.rate_limiter = RateLimiter(rate_limit) if rate_limit is not None else None
        self.script = Script(self.store, seed)
        self.requests: list[dict[str, Any]] = []
        self._requests_lock = threading.Lock()
        self._server: EmulatorHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # lifecycle

    def start(self) -> Emulator:
        """Serve on 127.0.0.1 in a daemon thread; return self."""
        self._server = EmulatorHTTPServer(self, self.port)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="jira-emulator",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def site_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def gateway_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # credentials and faults

    def add_token(self, token: str, scopes: set[str] | frozenset[str]) -> None:
        """Accept `token` at the gateway with only these scopes (e.g. {"read:jira-work"})."""
        self.tokens[token] = frozenset(scopes)

    def add_fault(
        self,
        path_regex: str,
        status: int | None = None,
        times: int | None = 1,
        retry_after: float | None = None,
        html: bool = False,
        *,
        probability: float | None = None,
        every: int | None = None,
        drop: bool = False,
        delay_seconds: float = 0.0,
    ) -> None:
        """Fail requests whose path matches `path_regex` (searched in the request path).

        Args:
            path_regex: regular expression searched in the path, e.g. `r"/search/jql$"`.
            status: status to return; None returns the normal response after `delay_seconds`.
            times: firings before the rule is used up; None never runs out.
            retry_after: seconds sent in `Retry-After`.
            html: send an HTML error page instead of Jira's JSON error body.
            probability: fire on each matching request with this probability (seeded).
            every: fire on every `every`-th matching request only.
            drop: close the connection without sending a response.
            delay_seconds: wait this long before answering or dropping.
        """
        self.faults.add(
            path_regex,
            status,
            times,
            retry_after,
            html,
            probability=probability,
            every=every,
            drop=drop,
            delay_seconds=delay_seconds,
        )

    def fault_plan(self, seed: int, rate: float) -> None:
        """Fail about `rate` of all API requests with 429, 500, 503 or a dropped connection.

        The same seed and the same sequence of requests give the same failures.
        """
        self.faults.plan(seed, rate)

    def clear_faults(self) -> None:
        self.faults.clear()

    # search visibility

    @property
    def visibility_lag_seconds(self) -> float:
        """Seconds of emulator time before search returns a change; GET issue returns it at once."""
        return self.store.index.lag_ms / 1000

    @visibility_lag_seconds.setter
    def visibility_lag_seconds(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError(f"Invalid visibility lag `{seconds}`: expected 0 or more seconds.")
        self.store.index.lag_ms = int(seconds * 1000)

    def revoke_project(self, project_key: str) -> None:
        """Remove the account's permission on a project: it leaves project lists and search,
        and its issues return 404."""
        self.store.index.revoked.add(project_index(project_key))

    def restore_project(self, project_key: str) -> None:
        self.store.index.revoked.discard(project_index(project_key))

    # clock and zone

    def now(self) -> dt.datetime:
        return ms_to_datetime(self.store.now_ms())

    def advance(self, seconds: float) -> None:
        self.store.advance(seconds)

    def set_time_zone(self, time_zone: str) -> None:
        ZoneInfo(time_zone)
        self.time_zone = time_zone

    # mutations and truth

    def edit_issue(self, id_or_key: str | int, **changes: Any) -> dict[str, Any]:
        return self.store.truth_of(self.store.edit(id_or_key, changes))

    def create_issue(self, project_key: str = "ABC", **fields: Any) -> dict[str, Any]:
        return self.store.truth_of(self.store.create(project_key, fields))

    def delete_issue(self, id_or_key: str | int) -> None:
        self.store.delete(id_or_key)

    def move_issue(self, id_or_key: str | int, project_key: str) -> dict[str, Any]:
        return self.store.truth_of(self.store.move(id_or_key, project_key))

    def truth(self) -> list[dict[str, Any]]:
        """Return the current issues as plain values (UTC datetimes), ascending by id."""
        return self.store.truth()

    # comments and worklogs

    def add_comment(self, id_or_key: str | int, body_text: str) -> dict[str, Any]:
        """Add a comment by the emulator's user; the issue's `updated` becomes now."""
        record = self.store.get(id_or_key)
        return comment_truth(record.id, items.add_comment(self.store, record.id, body_text))

    def delete_comment(self, comment_id: int | str) -> None:
        """Delete a comment; the issue's `updated` becomes now.

        Raises:
            KeyError: no live comment has this id.
        """
        items.delete_comment(self.store, int(comment_id))

    def add_worklog(self, id_or_key: str | int, seconds: int) -> dict[str, Any]:
        """Log `seconds` of work; raises the issue's `timespent` and sets `updated` to now."""
        record = self.store.get(id_or_key)
        return worklog_truth(record.id, items.add_worklog(self.store, record.id, seconds))

    def update_worklog(self, worklog_id: int | str, seconds: int) -> dict[str, Any]:
        """Change the time spent of a worklog; it and its issue get `updated` = now."""
        worklog = items.update_worklog(self.store, int(worklog_id), seconds)
        record = items.owner_of(self.store, self.store.worklog_changes, worklog["id"], "worklog")
        return worklog_truth(record.id, worklog)

    def delete_worklog(self, worklog_id: int | str) -> None:
        """Delete a worklog; `/worklog/deleted` lists it once a minute has passed."""
        items.delete_worklog(self.store, int(worklog_id))

    def comments_of(self, id_or_key: str | int) -> list[dict[str, Any]]:
        """Return the live comments of an issue as plain values, oldest first."""
        with self.store.lock:
            record = self.store.get(id_or_key)
            return [comment_truth(record.id, c) for c in self.store.comments(record)]

    def worklogs_of(self, id_or_key: str | int) -> list[dict[str, Any]]:
        """Return the live worklogs of an issue as plain values, oldest first."""
        with self.store.lock:
            record = self.store.get(id_or_key)
            return [worklog_truth(record.id, w) for w in self.store.worklogs(record)]

    # request log

    def record(
        self, method: str, path: str, query: str, body: bytes, status: int, scheme: str | None
    ) -> None:
        entry = {
            "method": method,
            "path": path,
            "query": query,
            "body": body[:500].decode(errors="replace"),
            "status": status,
            "auth": scheme,
        }
        with self._requests_lock:
            self.requests.append(entry)

    def stats(self) -> dict[str, Any]:
        with self._requests_lock:
            by_path = Counter(f"{r['method']} {r['path']}" for r in self.requests)
            by_status = Counter(str(r["status"]) for r in self.requests)
            return {
                "total": len(self.requests),
                "by_path": dict(by_path),
                "by_status": dict(by_status),
            }

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

from pipelines.emulator.faults import Faults
from pipelines.emulator.server import ALL_SCOPES, EmulatorHTTPServer
from pipelines.emulator.store import Store, ms_to_datetime

__all__ = ["Emulator"]

DEFAULT_SAMPLES_DIR = Path(__file__).resolve().parents[3] / "shared" / "jira-samples"


class Emulator:
    """A Jira site on 127.0.0.1 with deterministic generated issues.

    Args:
        issues: number of generated issues.
        seed: seed of the generated data; equal seeds give equal data for the same `start`.
        flavor: `cloud` (site root plus gateway prefix) or `dc` (Data Center, v2 only).
        time_zone: profile zone of the calling account, used for JQL dates and timestamps.
        latency_ms: delay added to every API request.
        samples_dir: folder of recorded payloads; default `../shared/jira-samples` beside
            the repository when it exists.
        port: port to bind on 127.0.0.1; 0 picks a free one.
        start: the clock's initial instant; default the current time.
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
        self.faults = Faults()
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
        status: int,
        times: int = 1,
        retry_after: float | None = None,
        html: bool = False,
    ) -> None:
        """Fail the next `times` requests whose path matches `path_regex` with `status`."""
        self.faults.add(path_regex, status, times, retry_after, html)

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

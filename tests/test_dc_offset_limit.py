"""Data Center searches deeper than the offset limit, against a small server in the test.

The server pages like Data Center: it runs `/rest/api/2/search` again for each page, returns
fewer issues than `maxResults` requests, and rejects a request whose `startAt + maxResults`
goes past its offset limit with 400.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from pipelines.client.auth import build_auth
from pipelines.client.connection import resolve_connection
from pipelines.client.search import IssueSearch, _issues_of
from pipelines.client.transport import JiraClient, RetryPolicy
from pipelines.errors import PayloadError
from pipelines.parallel import make_reader
from pipelines.window import Window
from tests.helpers import send_json

OFFSET_LIMIT = 250
# Issues per page the server returns at most, fewer than the readers request.
PAGE_CAP = 40
ISSUE_COUNT = 700
PAT = "dc-offset-limit-test-token"
START = dt.datetime(2024, 5, 1, 12, 0, tzinfo=dt.UTC)
# Matches one `updated` range of the readers' JQL, e.g. `updated >= 1 AND updated <= 2`.
RANGE = re.compile(r"updated >= (\d+)(?: AND updated <= (\d+))?")
ID_LIST = re.compile(r"\bid in \(([\d, ]+)\)")


def make_issues() -> list[dict[str, Any]]:
    """Return issues sorted by `updated` and id, four of them at each instant."""
    issues = []
    for number in range(ISSUE_COUNT):
        moment = START + dt.timedelta(seconds=number // 4)
        issues.append({"id": 10_000 + number, "updated_ms": int(moment.timestamp() * 1000)})
    return sorted(issues, key=lambda issue: (issue["updated_ms"], issue["id"]))


def render(issue: dict[str, Any]) -> dict[str, Any]:
    moment = dt.datetime.fromtimestamp(issue["updated_ms"] / 1000, tz=dt.UTC)
    updated = moment.strftime("%Y-%m-%dT%H:%M:%S.000+0000")
    fields = {"updated": updated, "summary": f"Issue {issue['id']}"}
    return {"id": str(issue["id"]), "key": f"DC-{issue['id']}", "fields": fields}


def matching(issues: list[dict[str, Any]], jql: str) -> list[dict[str, Any]]:
    """Return the issues a reader's JQL selects: an `id in` list, else `updated` ranges."""
    listed = ID_LIST.search(jql)
    if listed:
        ids = {int(part) for part in listed.group(1).split(",")}
        return sorted((i for i in issues if i["id"] in ids), key=lambda i: i["id"])
    ranges = [(int(low), int(high) if high else None) for low, high in RANGE.findall(jql)]
    return [
        issue
        for issue in issues
        if any(
            issue["updated_ms"] >= low and (high is None or issue["updated_ms"] <= high)
            for low, high in ranges
        )
    ]


@pytest.fixture
def server_url() -> Iterator[str]:
    issues = make_issues()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length))
            start, size = body["startAt"], body["maxResults"]
            if self.path != "/rest/api/2/search":
                self.reply(404, {"errorMessages": [f"No endpoint {self.path}."]})
            elif start + size > OFFSET_LIMIT:
                message = f"startAt + maxResults must be at most {OFFSET_LIMIT}."
                self.reply(400, {"errorMessages": [message], "errors": {}})
            else:
                found = matching(issues, body["jql"])
                page = [render(issue) for issue in found[start : start + min(size, PAGE_CAP)]]
                self.reply(
                    200,
                    {"startAt": start, "maxResults": size, "total": len(found), "issues": page},
                )

        def reply(self, status: int, payload: dict[str, Any]) -> None:
            send_json(self, status, payload)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize("strategy", ["sequential", "parallel"])
def test_dc_window_past_offset_limit(server_url: str, strategy: str) -> None:
    connection = resolve_connection(build_auth("pat", PAT), base_url=server_url)
    with JiraClient(connection, retry=RetryPolicy(min_wait=0.0, max_attempts=2)) as client:
        search = IssueSearch(client)
        search.offset_limit = OFFSET_LIMIT
        reader = make_reader(
            strategy, search, user_jql=None, fields=["summary", "updated"], page_size=100
        )
        ids = [int(issue["id"]) for page in reader.read(Window(None)) for issue in page]
    assert len(ids) == ISSUE_COUNT
    assert sorted(ids) == sorted(issue["id"] for issue in make_issues())
    assert reader.stats.slices > 1


@pytest.mark.parametrize(
    ("page", "named"),
    [(None, "got null"), ([], "got an array"), ({"values": []}, "got an object with keys values")],
)
def test_page_without_issues_names_json_kind(page: object, named: str) -> None:
    with pytest.raises(PayloadError) as raised:
        _issues_of(page, "/rest/api/2/search", 3)
    assert f"Page 3 of /rest/api/2/search has no `issues` list ({named})." in str(raised.value)

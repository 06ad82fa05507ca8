"""BulkReader against the emulator: completeness, the cursor, slicing, rate limits."""

from __future__ import annotations

import datetime as dt
import json
import tracemalloc
from collections.abc import Iterator
from typing import Any

import pytest

from pipelines.client.auth import build_auth
from pipelines.client.connection import resolve_connection
from pipelines.client.search import IssueSearch
from pipelines.client.transport import JiraClient, RetryPolicy
from pipelines.emulator import Emulator
from pipelines.normalize.timestamps import parse_instant
from pipelines.parallel import BulkReader, make_reader
from pipelines.reader import WindowReader
from pipelines.window import Window

START = dt.datetime(2024, 5, 1, 12, 0, tzinfo=dt.UTC)
FIELDS = ["summary", "updated", "status"]


def open_client(emu: Emulator) -> JiraClient:
    if emu.flavor == "dc":
        auth = build_auth("pat", emu.pat)
        connection = resolve_connection(auth, base_url=emu.site_url)
    else:
        auth = build_auth("bearer", emu.scoped_token)
        connection = resolve_connection(auth, site_url=emu.site_url, gateway_url=emu.gateway_url)
    return JiraClient(connection, retry=RetryPolicy(min_wait=0.0, max_attempts=10))


@pytest.fixture
def cloud() -> Iterator[Emulator]:
    with Emulator(issues=700, seed=5, start=START) as emu:
        yield emu


def read_all(reader: WindowReader) -> list[dict[str, Any]]:
    return [issue for page in reader.read(Window(None)) for issue in page]


def test_reads_every_issue_once(cloud: Emulator) -> None:
    with open_client(cloud) as client:
        reader = BulkReader(IssueSearch(client), user_jql=None, fields=FIELDS, max_in_flight=4)
        issues = read_all(reader)
    ids = [int(issue["id"]) for issue in issues]
    truth = cloud.truth()
    assert sorted(ids) == [row["id"] for row in truth]
    assert reader.stats.issues == 700
    assert reader.stats.fetched == 700
    assert reader.stats.chunks == 7
    assert reader.stats.max_updated == max(row["updated"] for row in truth)
    assert all("summary" in issue["fields"] for issue in issues)


def test_user_filter_applies(cloud: Emulator) -> None:
    with open_client(cloud) as client:
        reader = BulkReader(IssueSearch(client), user_jql="project = ABC", fields=FIELDS)
        issues = read_all(reader)
    expected = sorted(row["id"] for row in cloud.truth() if row["project_key"] == "ABC")
    assert expected
    assert sorted(int(issue["id"]) for issue in issues) == expected


def test_cursor_ignores_later_edits(cloud: Emulator) -> None:
    last = max(cloud.truth(), key=lambda row: (row["updated"], row["id"]))
    edited: list[dict[str, Any]] = []

    def edit_once(chunk: list[dict[str, Any]]) -> None:
        if not edited:
            cloud.advance(60)
            edited.append(cloud.edit_issue(last["id"], summary="Edited during the read"))

    with open_client(cloud) as client:
        reader = BulkReader(
            IssueSearch(client), user_jql=None, fields=FIELDS, max_in_flight=1, on_chunk=edit_once
        )
        issues = read_all(reader)
    fetched = next(issue for issue in issues if int(issue["id"]) == last["id"])
    assert fetched["fields"]["summary"] == "Edited during the read"
    assert parse_instant(fetched["fields"]["updated"]) == edited[0]["updated"]
    assert edited[0]["updated"] > last["updated"]
    assert reader.stats.max_updated == last["updated"]


def test_deleted_issue_counts_as_vanished(cloud: Emulator) -> None:
    last = max(cloud.truth(), key=lambda row: (row["updated"], row["id"]))

    def delete_once(chunk: list[dict[str, Any]]) -> None:
        if reader.stats.chunks == 1:
            cloud.delete_issue(last["id"])

    with open_client(cloud) as client:
        reader = BulkReader(
            IssueSearch(client),
            user_jql=None,
            fields=FIELDS,
            max_in_flight=1,
            on_chunk=delete_once,
        )
        issues = read_all(reader)
    assert len(issues) == 699
    assert last["id"] not in {int(issue["id"]) for issue in issues}
    assert reader.stats.vanished == 1


def test_dc_search_sliced_by_updated() -> None:
    with Emulator(issues=2500, seed=3, flavor="dc", start=START) as emu:
        with open_client(emu) as client:
            search = IssueSearch(client)
            search.offset_limit = 1000
            reader = BulkReader(search, user_jql=None, fields=FIELDS)
            issues = read_all(reader)
            # The log keeps 500 characters of each body: enough for the id-only searches.
            bodies = [r["body"] for r in emu.requests if r["path"].endswith("/search")]
        truth = emu.truth()
    ids = [int(issue["id"]) for issue in issues]
    assert len(ids) == 2500
    assert sorted(ids) == [row["id"] for row in truth]
    assert reader.stats.slices == 3
    assert reader.stats.max_updated == max(row["updated"] for row in truth)
    id_searches = [json.loads(body) for body in bodies if body.endswith('["updated"]}')]
    # The boundary check after the pass is an id search too; its JQL joins ranges with OR.
    id_offsets = [body["startAt"] for body in id_searches if " OR " not in body["jql"]]
    # Id pages hold 1000 issues on Data Center, so each slice is one page at offset 0.
    assert id_offsets == [0, 0, 0]


def test_rate_limit_lowers_in_flight() -> None:
    emulator = Emulator(issues=1200, seed=5, start=START, rate_limit=5)
    with emulator, open_client(emulator) as client:
        reader = BulkReader(IssueSearch(client), user_jql=None, fields=FIELDS, max_in_flight=8)
        issues = read_all(reader)
        retries = client.stats.retries
    assert len(issues) == 1200
    assert reader.limiter.stats.throttled >= 1
    assert reader.limiter.stats.decreases >= 1
    assert reader.limiter.limit < 8
    # Thirteen requests in well under a second against a budget of 5 a second.
    assert retries >= 1


def test_make_reader_strategies(cloud: Emulator) -> None:
    with open_client(cloud) as client:
        search = IssueSearch(client)
        sequential = make_reader("sequential", search, user_jql=None, fields=FIELDS)
        bulk = make_reader("parallel", search, user_jql=None, fields=FIELDS, max_in_flight=3)
        assert type(sequential) is WindowReader
        assert isinstance(bulk, BulkReader)
        assert bulk.limiter.max_in_flight == 3
        with pytest.raises(ValueError, match="Invalid strategy `fast`"):
            make_reader("fast", search, user_jql=None, fields=FIELDS)


def test_fetched_chunk_waits_as_json(cloud: Emulator) -> None:
    # Fetched chunks wait for the loader, up to one per slot. As bytes, a chunk of the source's
    # fields takes a fraction of its decoded size.
    from pipelines.collections.changelog import PREFETCHED, ChangelogPrefetch
    from pipelines.normalize.fields import FieldCatalog
    from pipelines.source import search_fields

    ids = [row["id"] for row in cloud.truth()[:100]]
    with open_client(cloud) as client:
        catalog = FieldCatalog.from_fields(client.get(client.connection.api_path("field")), None)
        reader = BulkReader(IssueSearch(client), user_jql=None, fields=search_fields(catalog))
        reader.on_chunk = ChangelogPrefetch(client, reader.limiter)
        chunk = reader._fetch(ids)
    assert chunk.decoded is None
    assert chunk.bulk_pages is not None
    encoded = sum(len(page.body.content) for page in chunk.bulk_pages)
    tracemalloc.start()
    try:
        issues = chunk.take()
        decoded, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert sorted(int(issue["id"]) for issue in issues) == sorted(ids)
    assert all(PREFETCHED in issue for issue in issues)
    assert decoded > 3 * encoded, (decoded, encoded)

"""Issue search on the emulator: Cloud token paging, Data Center offsets, caps and dates."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from zoneinfo import ZoneInfo

import httpx
import pytest

from pipelines.emulator import Emulator
from tests.deep_json import quoted_doc, quoted_doc_json

START = dt.datetime(2024, 6, 1, 12, 0, tzinfo=dt.UTC)


@pytest.fixture()
def cloud() -> Iterator[Emulator]:
    with Emulator(issues=300, seed=11, start=START) as emu:
        yield emu


@pytest.fixture(scope="module")
def dc() -> Iterator[Emulator]:
    with Emulator(issues=250, seed=5, flavor="dc", start=START) as emu:
        yield emu


def site(emu: Emulator) -> httpx.Client:
    return httpx.Client(base_url=emu.site_url, auth=(emu.email, emu.classic_token), timeout=30)


def pat(emu: Emulator) -> httpx.Client:
    return httpx.Client(
        base_url=emu.site_url, timeout=30, headers={"Authorization": f"Bearer {emu.pat}"}
    )


def search(client: httpx.Client, **body: object) -> httpx.Response:
    return client.post("/rest/api/3/search/jql", json=body)


def test_unbounded_jql_rejected(cloud: Emulator) -> None:
    with site(cloud) as client:
        for jql in ("", "ORDER BY updated"):
            response = search(client, jql=jql)
            assert response.status_code == 400
            assert response.json()["errorMessages"] == [
                "Unbounded JQL queries are not allowed here. Please add a search restriction "
                "to your query."
            ]


def test_default_fields_are_ids_only(cloud: Emulator) -> None:
    with site(cloud) as client:
        body = search(client, jql="project = ABC").json()
    assert body["issues"]
    assert all(issue.keys() == {"id"} for issue in body["issues"])
    assert "total" not in body


def test_token_paging_reaches_every_issue(cloud: Emulator) -> None:
    expected = sorted(i["id"] for i in cloud.truth() if i["project_key"] == "XYZ")
    seen: list[int] = []
    pages = 0
    token = None
    with site(cloud) as client:
        while True:
            request = {"jql": "project = XYZ ORDER BY id", "maxResults": 17}
            if token:
                request["nextPageToken"] = token
            body = search(client, **request).json()
            pages += 1
            assert "total" not in body
            seen.extend(int(issue["id"]) for issue in body["issues"])
            token = body.get("nextPageToken")
            if body["isLast"]:
                assert token is None
                break
    assert seen == expected
    assert pages == -(-len(expected) // 17)


def test_page_size_capped_with_fields(cloud: Emulator) -> None:
    with site(cloud) as client:
        full = search(client, jql="id > 0", maxResults=500, fields=["*all"]).json()
        ids = search(client, jql="id > 0", maxResults=500, fields=["id"]).json()
    assert len(full["issues"]) == 100
    assert len(ids["issues"]) == 300


def test_max_results_out_of_range(cloud: Emulator) -> None:
    with site(cloud) as client:
        assert search(client, jql="id > 0", maxResults=0).status_code == 400
        assert search(client, jql="id > 0", maxResults=5001).status_code == 400


def test_token_bound_to_its_query(cloud: Emulator) -> None:
    with site(cloud) as client:
        first = search(client, jql="project = ABC", maxResults=5).json()
        other = search(
            client, jql="project = XYZ", maxResults=5, nextPageToken=first["nextPageToken"]
        )
    assert other.status_code == 400


def test_edit_between_pages_shifts_issue(cloud: Emulator) -> None:
    jql = "project = ABC ORDER BY updated ASC"
    ordered = sorted(
        (i for i in cloud.truth() if i["project_key"] == "ABC"),
        key=lambda i: (i["updated"], i["id"]),
    )
    with site(cloud) as client:
        first = search(client, jql=jql, maxResults=10).json()
        assert [int(i["id"]) for i in first["issues"]] == [i["id"] for i in ordered[:10]]
        # Moving a first-page issue to the end pushes the 11th issue back onto page one.
        cloud.edit_issue(ordered[0]["key"], summary="edited between pages")
        second = search(client, jql=jql, maxResults=10, nextPageToken=first["nextPageToken"]).json()
    assert [int(i["id"]) for i in second["issues"]] == [i["id"] for i in ordered[11:21]]


def test_date_literal_uses_profile_zone(cloud: Emulator) -> None:
    zone = ZoneInfo(cloud.time_zone)
    issue = cloud.truth()[150]
    updated = issue["updated"]
    local_minute = updated.astimezone(zone).replace(second=0, microsecond=0)
    literal = local_minute.strftime("%Y-%m-%d %H:%M")
    epoch_ms = int(updated.timestamp() * 1000)
    with site(cloud) as client:
        by_minute = search(client, jql=f'id = {issue["id"]} AND updated >= "{literal}"').json()
        by_next = search(
            client,
            jql=f'id = {issue["id"]} AND updated >= "{(local_minute + dt.timedelta(minutes=1)).strftime("%Y/%m/%d %H:%M")}"',
        ).json()
        by_ms = search(client, jql=f"id = {issue['id']} AND updated >= {epoch_ms}").json()
        after_ms = search(client, jql=f"id = {issue['id']} AND updated > {epoch_ms}").json()
    assert [i["id"] for i in by_minute["issues"]] == [str(issue["id"])]
    assert by_next["issues"] == []
    assert [i["id"] for i in by_ms["issues"]] == [str(issue["id"])]
    assert after_ms["issues"] == []


def test_date_literal_follows_zone_change(cloud: Emulator) -> None:
    issue = cloud.truth()[10]
    utc_minute = issue["updated"].replace(second=0, microsecond=0)
    literal = utc_minute.strftime("%Y-%m-%d %H:%M")
    cloud.set_time_zone("UTC")
    with site(cloud) as client:
        utc = search(client, jql=f'id = {issue["id"]} AND updated >= "{literal}"').json()
        cloud.set_time_zone("Asia/Tokyo")  # the same wall time is nine hours earlier in UTC
        tokyo = search(client, jql=f'id = {issue["id"]} AND updated < "{literal}"').json()
        cloud.set_time_zone("Pacific/Honolulu")
        honolulu = search(client, jql=f'id = {issue["id"]} AND updated >= "{literal}"').json()
    assert len(utc["issues"]) == 1
    assert tokyo["issues"] == []
    assert honolulu["issues"] == []


def test_timestamps_in_profile_zone(cloud: Emulator) -> None:
    issue = cloud.truth()[0]
    cloud.set_time_zone("Asia/Kolkata")
    with site(cloud) as client:
        body = client.get(f"/rest/api/3/issue/{issue['key']}", params={"fields": "updated"})
    text = body.json()["fields"]["updated"]
    parsed = dt.datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%f%z")
    assert text.endswith("+0530")
    assert parsed == issue["updated"]


def test_removed_search_is_410(cloud: Emulator) -> None:
    with site(cloud) as client:
        for version in (2, 3):
            response = client.get(f"/rest/api/{version}/search", params={"jql": "id > 0"})
            assert response.status_code == 410
            assert "/rest/api/3/search/jql" in response.json()["errorMessages"][0]


def test_embedded_collections_are_capped(cloud: Emulator) -> None:
    with site(cloud) as client:
        body = search(
            client, jql="key = ABC-1", fields=["comment", "worklog"], expand="changelog"
        ).json()
    issue = body["issues"][0]
    comments = issue["fields"]["comment"]
    worklogs = issue["fields"]["worklog"]
    changelog = issue["changelog"]
    assert (len(comments["comments"]), comments["total"]) == (20, 45)
    assert (len(worklogs["worklogs"]), worklogs["total"]) == (20, 32)
    assert (len(changelog["histories"]), changelog["total"]) == (40, 250)
    created = [h["created"] for h in changelog["histories"]]
    assert created == sorted(created, reverse=True)


def test_bulkfetch_orders_by_id(cloud: Emulator) -> None:
    truth = cloud.truth()
    wanted = [truth[5]["key"], str(truth[2]["id"]), "NOPE-1"]
    with site(cloud) as client:
        body = client.post(
            "/rest/api/3/issue/bulkfetch", json={"issueIdsOrKeys": wanted, "fields": ["summary"]}
        ).json()
    assert [i["id"] for i in body["issues"]] == [str(truth[2]["id"]), str(truth[5]["id"])]
    assert body["issues"][1]["fields"]["summary"] == truth[5]["summary"]
    assert body["issueErrors"] == []


def test_approximate_count(cloud: Emulator) -> None:
    expected = sum(1 for i in cloud.truth() if i["status_category"] == "done")
    with site(cloud) as client:
        body = client.post(
            "/rest/api/3/search/approximate-count", json={"jql": "statusCategory = Done"}
        ).json()
    assert body == {"count": expected}


def test_dc_paging_with_lowered_page_size(dc: Emulator) -> None:
    expected = [i["id"] for i in dc.truth()]
    seen: list[int] = []
    with pat(dc) as client:
        start_at = 0
        while True:
            body = client.get(
                "/rest/api/2/search",
                params={"jql": "id > 0 ORDER BY id", "startAt": start_at, "maxResults": 1000},
            ).json()
            assert body["total"] == len(expected)
            assert body["maxResults"] == 100
            seen.extend(int(i["id"]) for i in body["issues"])
            start_at += len(body["issues"])
            if not body["issues"] or start_at >= body["total"]:
                break
    assert seen == expected


def test_dc_rejects_deep_offsets(dc: Emulator) -> None:
    with pat(dc) as client:
        response = client.get(
            "/rest/api/2/search", params={"jql": "id > 0", "startAt": 9950, "maxResults": 100}
        )
    assert response.status_code == 400
    assert response.json()["errorMessages"]


def test_dc_renders_legacy_sprints_and_wiki(dc: Emulator) -> None:
    with pat(dc) as client:
        body = client.get(
            "/rest/api/2/search", params={"jql": "project = ABC ORDER BY id", "maxResults": 100}
        ).json()
    sprints = [s for i in body["issues"] for s in (i["fields"]["customfield_10020"] or [])]
    assert sprints
    assert all(s.startswith("com.atlassian.greenhopper.service.sprint.Sprint@") for s in sprints)
    assert any("completeDate=<null>" in s for s in sprints)
    assert any("goal=Ship invoices, refunds, and exports," in s for s in sprints)
    descriptions = [i["fields"]["description"] for i in body["issues"]]
    assert all(d is None or isinstance(d, str) for d in descriptions)
    users = [i["fields"]["reporter"] for i in body["issues"]]
    assert all("accountId" not in u and u["name"] for u in users)


def test_deep_description_served_and_flattened() -> None:
    # Jira serves a value however deep it nests, beyond Python's recursion limit.
    with Emulator(issues=5, seed=11, start=START) as emu:
        emu.edit_issue("ABC-1", description=quoted_doc(3001))
        with site(emu) as client:
            response = search(client, jql="key = ABC-1", fields=["description"])
        (truth,) = [issue for issue in emu.truth() if issue["key"] == "ABC-1"]
    assert response.status_code == 200
    assert ',"fields":{"description":' + quoted_doc_json(3001) + "}}]" in response.text
    assert truth["description_text"] == "deep"

"""Collection endpoints of the emulator: changelogs, comments, worklogs and reference lists."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import httpx
import pytest

from pipelines.emulator import Emulator

START = dt.datetime(2024, 6, 1, 12, 0, tzinfo=dt.UTC)
START_MS = int(START.timestamp() * 1000)


@pytest.fixture()
def emu() -> Iterator[Emulator]:
    with Emulator(issues=120, seed=13, start=START) as emulator:
        yield emulator


def site(emu: Emulator) -> httpx.Client:
    return httpx.Client(base_url=emu.site_url, auth=(emu.email, emu.classic_token), timeout=30)


def gateway(emu: Emulator, token: str) -> httpx.Client:
    return httpx.Client(
        base_url=f"{emu.gateway_url}/ex/jira/{emu.cloud_id}",
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )


def offset_pages(client: httpx.Client, path: str, key: str, **params: object) -> list[dict]:
    """Page an offset endpoint, advancing by the number of items returned."""
    items: list[dict] = []
    while True:
        body = client.get(path, params={"startAt": len(items), **params}).json()
        items.extend(body[key])
        if not body[key] or len(items) >= body["total"]:
            return items


def test_changelog_pages_hold_all_histories(emu: Emulator) -> None:
    with site(emu) as client:
        first = client.get("/rest/api/3/issue/ABC-1/changelog", params={"maxResults": 500})
        histories = offset_pages(client, "/rest/api/3/issue/ABC-1/changelog", "values")
    body = first.json()
    assert body["maxResults"] == 100
    assert len(body["values"]) == 100
    assert body["total"] == 250
    assert body["isLast"] is False
    assert len(histories) == 250
    assert len({h["id"] for h in histories}) == 250
    created = [dt.datetime.strptime(h["created"], "%Y-%m-%dT%H:%M:%S.%f%z") for h in histories]
    assert created == sorted(created)


def test_changelog_matches_embedded_histories(emu: Emulator) -> None:
    with site(emu) as client:
        issue = client.get("/rest/api/3/issue/ABC-1", params={"expand": "changelog"}).json()
        histories = offset_pages(client, "/rest/api/3/issue/ABC-1/changelog", "values")
    embedded = issue["changelog"]["histories"]
    assert len(embedded) == 40
    assert [h["id"] for h in embedded] == [h["id"] for h in histories[::-1][:40]]
    assert embedded[0] == histories[-1]


def test_summary_edit_keeps_earlier_history_text(emu: Emulator) -> None:
    path = "/rest/api/3/issue/ABC-1/changelog"
    with site(emu) as client:
        before = offset_pages(client, path, "values")
        old_summary = client.get("/rest/api/3/issue/ABC-1").json()["fields"]["summary"]
        emu.edit_issue("ABC-1", summary="Renamed by a test")
        after = offset_pages(client, path, "values")
    summary_items = [
        item for history in before for item in history["items"] if item["field"] == "summary"
    ]
    # The precondition: ABC-1 has generated summary changes whose text could be rewritten.
    assert summary_items
    assert after[: len(before)] == before
    [added] = after[len(before) :]
    assert [(i["fromString"], i["toString"]) for i in added["items"]] == [
        (old_summary, "Renamed by a test")
    ]


def test_comments_match_embedded_page_and_truth(emu: Emulator) -> None:
    with site(emu) as client:
        issue = client.get("/rest/api/3/issue/ABC-1", params={"fields": "comment"}).json()
        comments = offset_pages(client, "/rest/api/3/issue/ABC-1/comment", "comments")
        newest = client.get(
            "/rest/api/3/issue/ABC-1/comment", params={"orderBy": "-created", "maxResults": 1}
        ).json()
    truth_ids = [str(c["id"]) for c in emu.comments_of("ABC-1")]
    assert len(truth_ids) == 45
    assert [c["id"] for c in comments] == truth_ids
    embedded = issue["fields"]["comment"]
    assert embedded["total"] == 45
    assert [c["id"] for c in embedded["comments"]] == truth_ids[:20]
    assert newest["comments"][0]["id"] == truth_ids[-1]


def test_worklog_page_lists_all_worklogs(emu: Emulator) -> None:
    with site(emu) as client:
        body = client.get("/rest/api/3/issue/ABC-1/worklog").json()
        embedded = client.get("/rest/api/3/issue/ABC-1", params={"fields": "worklog"}).json()
    assert body["startAt"] == 0
    assert body["maxResults"] == 5000
    assert body["total"] == 32
    assert [w["id"] for w in body["worklogs"]] == [str(w["id"]) for w in emu.worklogs_of("ABC-1")]
    assert embedded["fields"]["worklog"]["total"] == 32
    assert len(embedded["fields"]["worklog"]["worklogs"]) == 20
    assert body["worklogs"][0]["issueId"] == "10000"


def test_bulk_changelogs_page_by_token(emu: Emulator) -> None:
    expected = {
        "10000": [h["id"] for h in offset_pages_of(emu, "ABC-1")],
        "10001": [h["id"] for h in offset_pages_of(emu, "ABC-2")],
    }
    collected: dict[str, list[str]] = {"10000": [], "10001": []}
    pages = 0
    body: dict = {"issueIdsOrKeys": ["ABC-1", "10001"], "maxResults": 120}
    with site(emu) as client:
        while True:
            page = client.post("/rest/api/3/changelog/bulkfetch", json=body).json()
            pages += 1
            assert sum(len(e["changeHistories"]) for e in page["issueChangeLogs"]) <= 120
            for entry in page["issueChangeLogs"]:
                collected[entry["issueId"]].extend(h["id"] for h in entry["changeHistories"])
            if "nextPageToken" not in page:
                break
            body["nextPageToken"] = page["nextPageToken"]
    assert len(expected["10000"]) == 250
    assert len(expected["10001"]) == 41
    assert collected == expected
    assert pages == 3  # 291 histories, 120 a page


def offset_pages_of(emu: Emulator, key: str) -> list[dict]:
    with site(emu) as client:
        return offset_pages(client, f"/rest/api/3/issue/{key}/changelog", "values")


def test_bulk_changelogs_filter_by_field(emu: Emulator) -> None:
    emu.edit_issue("ABC-3", priority="Lowest")
    with site(emu) as client:
        body = client.post(
            "/rest/api/3/changelog/bulkfetch",
            json={"issueIdsOrKeys": ["ABC-3"], "fieldIds": ["priority"]},
        ).json()
    items = [i for h in body["issueChangeLogs"][0]["changeHistories"] for i in h["items"]]
    assert items
    assert {i["fieldId"] for i in items} == {"priority"}
    assert items[-1]["toString"] == "Lowest"


def test_bulk_changelogs_reject_more_than_1000_ids(emu: Emulator) -> None:
    with site(emu) as client:
        response = client.post(
            "/rest/api/3/changelog/bulkfetch",
            json={"issueIdsOrKeys": [str(10000 + i) for i in range(1001)]},
        )
        fields = client.post(
            "/rest/api/3/changelog/bulkfetch",
            json={"issueIdsOrKeys": ["ABC-1"], "fieldIds": [f"f{i}" for i in range(11)]},
        )
    assert response.status_code == 400
    assert fields.status_code == 400


def test_added_comment_updates_issue(emu: Emulator) -> None:
    before = next(i for i in emu.truth() if i["key"] == "ABC-2")
    emu.advance(60)
    comment = emu.add_comment("ABC-2", "Deployed to staging.")
    after = next(i for i in emu.truth() if i["key"] == "ABC-2")
    with site(emu) as client:
        last = client.get(
            "/rest/api/3/issue/ABC-2/comment", params={"orderBy": "-created", "maxResults": 1}
        ).json()
    assert after["comment_count"] == before["comment_count"] + 1 == 22
    assert after["updated"] == comment["created"]
    assert after["updated"] > before["updated"]
    assert last["total"] == 22
    assert last["comments"][0]["id"] == str(comment["id"])
    assert last["comments"][0]["body"]["content"][0]["content"][0]["text"] == (
        "Deployed to staging."
    )


def test_deleted_comment_disappears(emu: Emulator) -> None:
    first_id = emu.comments_of("ABC-1")[0]["id"]
    emu.delete_comment(first_id)
    with site(emu) as client:
        body = client.get("/rest/api/3/issue/ABC-1/comment").json()
    assert body["total"] == 44
    assert str(first_id) not in [c["id"] for c in body["comments"]]
    with pytest.raises(KeyError):
        emu.delete_comment(first_id)


def test_worklog_changes_listed_after_a_minute(emu: Emulator) -> None:
    emu.advance(3600)
    since = emu.store.now_ms()
    added = emu.add_worklog("ABC-2", 5400)
    emu.advance(1)
    updated_target = emu.worklogs_of("ABC-1")[0]["id"]
    emu.update_worklog(updated_target, 900)
    deleted_target = emu.worklogs_of("ABC-1")[1]["id"]
    emu.delete_worklog(deleted_target)
    with site(emu) as client:
        too_soon = client.get("/rest/api/3/worklog/updated", params={"since": since}).json()
        emu.advance(61)
        updated = client.get("/rest/api/3/worklog/updated", params={"since": since}).json()
        deleted = client.get("/rest/api/3/worklog/deleted", params={"since": since}).json()
        listed = client.post(
            "/rest/api/3/worklog/list", json={"ids": [added["id"], updated_target]}
        ).json()
        issue = client.get("/rest/api/3/issue/ABC-2", params={"fields": "timespent"}).json()
    assert too_soon["values"] == []
    assert [v["worklogId"] for v in updated["values"]] == [added["id"], updated_target]
    assert updated["lastPage"] is True
    assert updated["until"] == updated["values"][-1]["updatedTime"]
    assert [v["worklogId"] for v in deleted["values"]] == [deleted_target]
    assert {w["id"]: w["timeSpentSeconds"] for w in listed} == {
        str(added["id"]): 5400,
        str(updated_target): 900,
    }
    # ABC-2 was generated with 21 worklogs of 1800 seconds each.
    assert issue["fields"]["timespent"] == 21 * 1800 + 5400


def test_worklog_updated_pages_hold_1000(emu: Emulator) -> None:
    for _ in range(1005):
        emu.add_worklog("ABC-3", 60)
    emu.advance(61)
    with site(emu) as client:
        first = client.get("/rest/api/3/worklog/updated", params={"since": START_MS}).json()
    assert len(first["values"]) == 1000
    assert first["lastPage"] is False
    assert first["nextPage"].endswith(f"since={first['until']}")


def test_worklog_list_rejects_more_than_1000_ids(emu: Emulator) -> None:
    with site(emu) as client:
        response = client.post("/rest/api/3/worklog/list", json={"ids": list(range(1001))})
    assert response.status_code == 400


def test_unknown_issue_collection_is_404(emu: Emulator) -> None:
    with site(emu) as client:
        response = client.get("/rest/api/3/issue/NOPE-1/comment")
    assert response.status_code == 404


def test_reference_lists(emu: Emulator) -> None:
    with site(emu) as client:
        projects = client.get("/rest/api/3/project/search", params={"maxResults": 2}).json()
        users = client.get("/rest/api/3/users/search", params={"maxResults": 3}).json()
        statuses = client.get("/rest/api/3/status").json()
        versions = client.get("/rest/api/3/project/ABC/versions").json()
        components = client.get("/rest/api/3/project/10001/components").json()
    assert [p["key"] for p in projects["values"]] == ["ABC", "XYZ"]
    assert projects["total"] == 3
    assert projects["isLast"] is False
    assert len(users) == 3
    assert users[0]["accountType"] == "atlassian"
    assert {s["name"] for s in statuses} == {
        "To Do",
        "In Progress",
        "In Review",
        "Done",
        "Won't Do",
    }
    assert [v["name"] for v in versions] == ["1.0", "1.1", "2.0"]
    assert [c["name"] for c in components] == ["iOS", "Android"]


def test_agile_needs_agile_scopes(emu: Emulator) -> None:
    emu.add_token("work-only", {"read:jira-work"})
    emu.add_token("boards-only", {"read:jira-work", "read:board-scope:jira-software"})
    with gateway(emu, "work-only") as client:
        denied = client.get("/rest/agile/1.0/board")
    with gateway(emu, "boards-only") as client:
        boards = client.get("/rest/agile/1.0/board")
        sprints_denied = client.get("/rest/agile/1.0/board/1/sprint")
    with gateway(emu, emu.scoped_token) as client:
        sprints = client.get("/rest/agile/1.0/board/1/sprint").json()
    assert denied.status_code == 401
    assert denied.json() == {"code": 401, "message": "Unauthorized; scope does not match"}
    assert [b["id"] for b in boards.json()["values"]] == [1, 2, 3]
    assert sprints_denied.status_code == 401
    assert [s["name"] for s in sprints["values"]] == [
        "ABC Sprint 1",
        "ABC Sprint 2",
        "ABC Sprint 3",
        "ABC Sprint 4",
    ]
    assert sprints["isLast"] is True


def test_control_api_adds_worklog(emu: Emulator) -> None:
    response = httpx.post(
        emu.site_url + "/_emulator/worklog", json={"issue": "ABC-2", "seconds": 120}
    )
    assert response.status_code == 200
    assert response.json()["time_spent_seconds"] == 120
    assert next(i for i in emu.truth() if i["key"] == "ABC-2")["worklog_count"] == 22


def test_dc_serves_collections_in_v2(emu: Emulator) -> None:
    with Emulator(issues=10, seed=13, flavor="dc", start=START) as dc:
        headers = {"Authorization": f"Bearer {dc.pat}"}
        comments = httpx.get(dc.site_url + "/rest/api/2/issue/ABC-1/comment", headers=headers)
        issue = httpx.get(
            dc.site_url + "/rest/api/2/issue/ABC-1", params={"expand": "changelog"}, headers=headers
        )
    assert comments.status_code == 200
    assert isinstance(comments.json()["comments"][0]["body"], str)
    assert issue.json()["changelog"]["total"] == 250
    assert len(issue.json()["changelog"]["histories"]) == 250

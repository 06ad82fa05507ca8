"""Payload faults: one issue without `fields`, without `updated`, with a value of the wrong type
(in a converted field or in a text column), or a body that is not JSON. Values of the wrong type
in a changelog and in a reference list, too. The run stops with one message naming the issue or
the record, exits non-zero, and leaves the data and the cursor as they were.

A small proxy on 127.0.0.1 between the CLI and the emulator corrupts the responses.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from pipelines.emulator import Emulator
from tests.helpers import CliResult, RewritingProxy, run_cli, snapshot

START = dt.datetime(2026, 7, 1, 8, 0, 2, tzinfo=dt.UTC)
TARGET = "ABC-3"
Corruption = Callable[[dict[str, Any]], None]
# A path suffix, and a function that changes the decoded body of the responses to that path.
BodyCorruption = tuple[str, Callable[[Any], None]]


class CorruptingProxy(RewritingProxy):
    """Forward every request to the emulator, and change some responses on the way back.

    `corrupt` changes issue `TARGET` in search and bulk fetch pages, and `corrupt_body` changes
    the decoded body of the responses to one path.
    """

    def __init__(self, upstream: str) -> None:
        self.corrupt: Corruption | None = None
        self.corrupt_body: BodyCorruption | None = None
        self.break_json = False
        super().__init__(upstream)

    def rewrite(self, path: str, body: bytes | None, answer: httpx.Response) -> bytes:
        content = answer.content
        route = path.split("?", 1)[0]
        if self.corrupt_body is not None and route.endswith(self.corrupt_body[0]):
            decoded = json.loads(content)
            self.corrupt_body[1](decoded)
            return json.dumps(decoded).encode()
        if not path.endswith(("/search/jql", "/issue/bulkfetch")):
            return content
        page = json.loads(content)
        hit = False
        for issue in page.get("issues", []):
            if issue.get("key") == TARGET:
                hit = True
                if self.corrupt is not None:
                    self.corrupt(issue)
        if hit and self.break_json:
            return content[: len(content) // 2]
        return json.dumps(page).encode()


@pytest.fixture
def site() -> Iterator[tuple[Emulator, CorruptingProxy]]:
    with Emulator(issues=25, seed=41, start=START) as emu:
        proxy = CorruptingProxy(emu.site_url)
        try:
            yield emu, proxy
        finally:
            proxy.close()


def load(  # noqa: ANN201
    proxy: CorruptingProxy, emu: Emulator, tmp_path: Path, tables: str = "sprints,issue_changelog"
):
    return run_cli(
        [
            "run",
            "--site-url",
            proxy.url,
            "--gateway-url",
            proxy.url,
            "--duckdb-path",
            str(tmp_path / "jira.duckdb"),
            "--pipelines-dir",
            str(tmp_path / "pipelines"),
            "--tables",
            tables,
            "--max-retries",
            "1",
        ],
        env={"JIRA_TOKEN": emu.scoped_token},
    )


def drop_fields(issue: dict[str, Any]) -> None:
    del issue["fields"]


def drop_updated(issue: dict[str, Any]) -> None:
    issue["fields"].pop("updated", None)


def labels_not_a_list(issue: dict[str, Any]) -> None:
    issue["fields"]["labels"] = 42
    issue["fields"]["timespent"] = "three hours"


def id_out_of_range(issue: dict[str, Any]) -> None:
    issue["id"] = str(2**64 + 5)


def id_with_leading_zero(issue: dict[str, Any]) -> None:
    issue["id"] = "0" + issue["id"]


def id_in_superscript(issue: dict[str, Any]) -> None:
    # str.isdigit() accepts "²", int() does not.
    issue["id"] = "²"


def id_in_arabic_indic_digits(issue: dict[str, Any]) -> None:
    # int() reads these digits as the same number.
    issue["id"] = issue["id"].translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))


def component_id_out_of_range(issue: dict[str, Any]) -> None:
    issue["fields"]["components"] = [{"id": str(2**64), "name": "Overflow"}]


def linked_issue_id_with_leading_zero(issue: dict[str, Any]) -> None:
    issue["fields"]["issuelinks"] = [
        {"id": "20001", "type": {"name": "Blocks"}, "outwardIssue": {"id": "0010017"}}
    ]


# Text values of the wrong type pass normalization as they are and fail in the Arrow conversion.
# Responses that leave the field out keep it out.
def project_key_is_a_number(issue: dict[str, Any]) -> None:
    if "project" in issue["fields"]:
        issue["fields"]["project"]["key"] = 10000


def status_name_is_an_object(issue: dict[str, Any]) -> None:
    if "status" in issue["fields"]:
        issue["fields"]["status"]["name"] = {"value": "In Progress"}


def component_name_is_a_number(issue: dict[str, Any]) -> None:
    issue["fields"]["components"] = [{"id": "10100", "name": 7}]


def link_type_name_is_an_object(issue: dict[str, Any]) -> None:
    issue["fields"]["issuelinks"] = [
        {"id": "20001", "type": {"name": {"en": "Blocks"}}, "outwardIssue": {"id": "10017"}}
    ]


# Text the message must hold besides the issue key, where the case has more to name.
NAMED_IN_MESSAGE = {
    "component_id_out_of_range": (f"{2**64}`, expected an id within the range of a 64-bit",),
    "linked_issue_id_with_leading_zero": ("issue_links.linked_issue_id",),
    "project_key_is_a_number": (
        "field `project.key` (column `project_key`) has value `10000` (a JSON number)",
        "expected a string",
        "check for a proxy or an app that changes the responses",
    ),
    "status_name_is_an_object": (
        "field `status.name` (column `status`)",
        "(a JSON object), expected a string",
    ),
    "component_name_is_a_number": (
        "column `issue_components.component_name`) has value `7` (a JSON number)",
    ),
    "link_type_name_is_an_object": (
        'column `issue_links.link_type`) has value `{"en": "Blocks"}` (a JSON object)',
    ),
}


@pytest.mark.parametrize(
    "corrupt",
    [
        drop_fields,
        drop_updated,
        labels_not_a_list,
        id_out_of_range,
        id_with_leading_zero,
        id_in_superscript,
        id_in_arabic_indic_digits,
        component_id_out_of_range,
        linked_issue_id_with_leading_zero,
        project_key_is_a_number,
        status_name_is_an_object,
        component_name_is_a_number,
        link_type_name_is_an_object,
    ],
    ids=lambda f: f.__name__,
)
def test_corrupt_issue_fails_without_changes(
    site: tuple[Emulator, CorruptingProxy], tmp_path: Path, corrupt: Corruption
) -> None:
    emu, proxy = site
    assert load(proxy, emu, tmp_path).exit_code == 0
    state_file = tmp_path / "pipelines" / "jira_jira" / "state.json"
    before, state_before = snapshot(tmp_path / "jira.duckdb"), state_file.read_text()
    emu.advance(30)
    emu.edit_issue(TARGET, summary="edited, then corrupted on the way")
    emu.edit_issue("ABC-1", summary="a healthy edit in the same window")
    proxy.corrupt = corrupt
    failed = load(proxy, emu, tmp_path)
    assert failed.exit_code == 1, failed.output
    assert TARGET in failed.stderr, failed.stderr
    for named in NAMED_IN_MESSAGE.get(corrupt.__name__, ()):
        assert named in failed.stderr, failed.stderr
    assert failed.stderr.count("Error:") == 1, failed.stderr
    assert "Traceback" not in failed.stderr, failed.stderr
    assert snapshot(tmp_path / "jira.duckdb") == before
    assert json.loads(state_file.read_text())["sources"] == json.loads(state_before)["sources"]


def test_malformed_json_fails_without_changes(
    site: tuple[Emulator, CorruptingProxy], tmp_path: Path
) -> None:
    emu, proxy = site
    assert load(proxy, emu, tmp_path).exit_code == 0
    before = snapshot(tmp_path / "jira.duckdb")
    emu.advance(30)
    emu.edit_issue(TARGET, summary="edited, then cut in half")
    proxy.break_json = True
    failed = load(proxy, emu, tmp_path)
    assert failed.exit_code == 1, failed.output
    assert failed.stderr.count("Error:") == 1, failed.stderr
    assert "Traceback" not in failed.stderr, failed.stderr
    assert snapshot(tmp_path / "jira.duckdb") == before


def test_changelog_field_number_fails_without_changes(
    site: tuple[Emulator, CorruptingProxy], tmp_path: Path
) -> None:
    emu, proxy = site
    assert load(proxy, emu, tmp_path).exit_code == 0
    state_file = tmp_path / "pipelines" / "jira_jira" / "state.json"
    before, state_before = snapshot(tmp_path / "jira.duckdb"), state_file.read_text()
    emu.advance(30)
    emu.edit_issue(TARGET, summary="edited, then its changelog corrupted on the way")
    emu.edit_issue("ABC-1", summary="a healthy edit in the same window")
    target_id = str(emu.store.get(TARGET).id)
    corrupted: list[str] = []

    def field_is_a_number(page: dict[str, Any]) -> None:
        for log in page.get("issueChangeLogs", []):
            if str(log.get("issueId")) == target_id and log["changeHistories"]:
                history = log["changeHistories"][-1]
                history["items"][0]["field"] = 7
                corrupted.append(str(history["id"]))

    proxy.corrupt_body = ("/changelog/bulkfetch", field_is_a_number)
    failed = load(proxy, emu, tmp_path)
    # The precondition: the run read the target's changelog through the proxy.
    assert len(corrupted) == 1, failed.output
    assert failed.exit_code == 1, failed.output
    assert failed.stderr.count("Error:") == 1, failed.stderr
    assert "Traceback" not in failed.stderr, failed.stderr
    expected = (
        f"Issue `{TARGET}`, table `issue_changelog`: field `items[].field` (column "
        f"`issue_changelog.field`) of changelog history `{corrupted[0]}` has value `7` "
        "(a JSON number), expected a string."
    )
    assert expected in failed.stderr, failed.stderr
    assert "`--skip-tables issue_changelog`" in failed.stderr
    assert "Expected bytes" not in failed.stderr
    assert snapshot(tmp_path / "jira.duckdb") == before
    assert json.loads(state_file.read_text())["sources"] == json.loads(state_before)["sources"]


def reference_page_corrupted(
    site: tuple[Emulator, CorruptingProxy],
    tmp_path: Path,
    table: str,
    path: str,
    corrupt: Any,
) -> CliResult:
    """Load `table`, then load again with `corrupt` applied to the pages of `path`.

    Checks that the second run failed with one message and changed neither the tables nor
    the cursor, and returns it.
    """
    emu, proxy = site
    assert load(proxy, emu, tmp_path, tables=table).exit_code == 0
    state_file = tmp_path / "pipelines" / "jira_jira" / "state.json"
    before, state_before = snapshot(tmp_path / "jira.duckdb"), state_file.read_text()
    # The precondition: the first run loaded the table.
    assert before[table], before.keys()
    emu.advance(30)
    emu.edit_issue("ABC-1", summary="a healthy edit in the same run")
    proxy.corrupt_body = (path, corrupt)
    failed = load(proxy, emu, tmp_path, tables=table)
    assert failed.exit_code == 1, failed.output
    assert failed.stderr.count("Error:") == 1, failed.stderr
    assert "Traceback" not in failed.stderr, failed.stderr
    assert "Expected bytes" not in failed.stderr
    assert snapshot(tmp_path / "jira.duckdb") == before
    assert json.loads(state_file.read_text())["sources"] == json.loads(state_before)["sources"]
    return failed


def test_project_key_number_fails_without_changes(
    site: tuple[Emulator, CorruptingProxy], tmp_path: Path
) -> None:
    corrupted: list[str] = []

    def key_is_a_number(page: dict[str, Any]) -> None:
        project = page["values"][0]
        project["key"] = 7
        corrupted.append(str(project["id"]))

    failed = reference_page_corrupted(
        site, tmp_path, "projects", "/project/search", key_is_a_number
    )
    assert corrupted, failed.output
    expected = (
        f"Table `projects`, record with id `{corrupted[0]}` from `/rest/api/3/project/search`: "
        "field `key` (column `projects.key`) has value `7` (a JSON number), expected a string."
    )
    assert expected in failed.stderr, failed.stderr
    assert "`--skip-tables projects`" in failed.stderr


def test_board_sprint_name_number_fails_without_changes(
    site: tuple[Emulator, CorruptingProxy], tmp_path: Path
) -> None:
    corrupted: list[str] = []

    def name_is_a_number(page: dict[str, Any]) -> None:
        if not page.get("values"):
            return
        sprint = page["values"][0]
        sprint["name"] = 7
        corrupted.append(str(sprint["id"]))

    failed = reference_page_corrupted(site, tmp_path, "sprints", "/sprint", name_is_a_number)
    assert corrupted, failed.output
    assert f"sprint `{corrupted[0]}`" in failed.stderr, failed.stderr
    assert "/rest/agile/1.0/board/" in failed.stderr, failed.stderr
    assert "`--skip-tables sprints`" in failed.stderr, failed.stderr

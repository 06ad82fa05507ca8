"""Each way to authenticate loads end to end; each bad input fails clearly and changes nothing."""

from __future__ import annotations

import datetime as dt
import subprocess
from pathlib import Path

import pytest

from pipelines.emulator import Emulator
from tests.helpers import query, run_cli, snapshot

START = dt.datetime(2026, 5, 4, 12, 0, 3, tzinfo=dt.UTC)


def common(db: Path, pdir: Path) -> list[str]:
    return ["--duckdb-path", str(db), "--pipelines-dir", str(pdir), "--max-retries", "2"]


def truth_ids(emu: Emulator) -> dict[int, str]:
    return {t["id"]: t["key"] for t in emu.truth()}


def loaded_ids(db: Path) -> dict[int, str]:
    return dict(query(db, "select id, key from issues"))


@pytest.fixture
def cloud():
    with Emulator(issues=60, seed=3, time_zone="Europe/Berlin", start=START) as emu:
        yield emu


@pytest.fixture
def dc():
    with Emulator(issues=60, seed=4, flavor="dc", time_zone="Asia/Tokyo", start=START) as emu:
        yield emu


def test_basic_auth_at_site_loads_and_updates(cloud: Emulator, tmp_path: Path) -> None:
    db, pdir = tmp_path / "jira.duckdb", tmp_path / "p"
    args = ["run", "--auth", "basic", "--base-url", cloud.site_url, "--email", cloud.email]
    env = {"JIRA_TOKEN": cloud.classic_token}
    first = run_cli([*args, *common(db, pdir)], env=env)
    assert first.exit_code == 0, first.output
    assert loaded_ids(db) == truth_ids(cloud)
    cloud.move_issue("ABC-4", "XYZ")
    second = run_cli([*args, *common(db, pdir)], env=env)
    assert second.exit_code == 0, second.output
    assert loaded_ids(db) == truth_ids(cloud)
    assert len(loaded_ids(db)) == 60


def test_bearer_with_cloud_id_at_gateway(cloud: Emulator, tmp_path: Path) -> None:
    db, pdir = tmp_path / "jira.duckdb", tmp_path / "p"
    args = [
        "run",
        "--auth",
        "bearer",
        "--cloud-id",
        cloud.cloud_id,
        "--gateway-url",
        cloud.gateway_url,
        *common(db, pdir),
    ]
    result = run_cli(args, env={"JIRA_TOKEN": cloud.scoped_token})
    assert result.exit_code == 0, result.output
    assert loaded_ids(db) == truth_ids(cloud)
    gateway_paths = {r["path"] for r in cloud.requests if r["path"].startswith("/ex/jira/")}
    assert any(p.endswith("/rest/api/3/search/jql") for p in gateway_paths)


def test_pat_on_data_center_loads_and_updates(dc: Emulator, tmp_path: Path) -> None:
    db, pdir = tmp_path / "jira.duckdb", tmp_path / "p"
    args = [
        "run",
        "--auth",
        "pat",
        "--base-url",
        dc.site_url,
        "--page-size",
        "1000",
        *common(db, pdir),
    ]
    env = {"JIRA_TOKEN": dc.pat}
    first = run_cli(args, env=env)
    assert first.exit_code == 0, first.output
    assert loaded_ids(db) == truth_ids(dc)
    # Data Center capped the page at 100 below the 1000 asked: offsets follow what came back.
    starts = [r["body"] for r in dc.requests if r["path"] == "/rest/api/2/search"]
    assert len(starts) >= 1
    dc.edit_issue("ABC-2", labels=["dc-label"])
    second = run_cli(args, env=env)
    assert second.exit_code == 0, second.output
    assert ("dc-label",) in query(
        db,
        "select label from issue_labels where issue_id = "
        f"{next(t['id'] for t in dc.truth() if t['key'] == 'ABC-2')}",
    )
    text = query(db, "select description_text, description_adf from issues limit 1")[0]
    assert text[1] is None


def first_load(emu: Emulator, db: Path, pdir: Path) -> list[str]:
    args = ["run", "--site-url", emu.site_url, "--gateway-url", emu.gateway_url, *common(db, pdir)]
    result = run_cli(args, env={"JIRA_TOKEN": emu.scoped_token})
    assert result.exit_code == 0, result.output
    return args


def assert_unchanged(db: Path, pdir: Path, before: dict, state_before: str) -> None:
    assert snapshot(db) == before
    assert (pdir / "jira_jira" / "state.json").read_text() == state_before


def test_failed_first_run_leaves_no_file(cloud: Emulator, tmp_path: Path) -> None:
    db, pdir = tmp_path / "jira.duckdb", tmp_path / "p"
    args = ["run", "--cloud-id", cloud.cloud_id, "--gateway-url", cloud.gateway_url]
    result = run_cli([*args, *common(db, pdir)], env={"JIRA_TOKEN": "not-a-real-token"})
    assert result.exit_code == 1, result.output
    assert "401" in result.stderr
    assert sorted(path.name for path in tmp_path.iterdir() if path.name.startswith("jira.")) == []


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("wrong_token", ["401", "rejected at the gateway"]),
        ("classic_token_as_bearer", ["401", "--auth basic"]),
        ("wrong_cloud_id", ["404", "organization id"]),
        ("bad_jql", ["400", "Jira's message", "Expecting", "--jql"]),
        ("removed_endpoint", ["410", "removed"]),
        ("server_down", ["503", "after 2 attempts"]),
        ("html_429", ["429", "after 2 attempts"]),
    ],
)
def test_bad_input_fails_and_changes_nothing(
    cloud: Emulator, tmp_path: Path, case: str, expected: list[str]
) -> None:
    db, pdir = tmp_path / "jira.duckdb", tmp_path / "p"
    args = first_load(cloud, db, pdir)
    before = snapshot(db)
    state_before = (pdir / "jira_jira" / "state.json").read_text()
    cloud.edit_issue("ABC-1", summary="an edit the failed run must not load")
    env = {"JIRA_TOKEN": cloud.scoped_token}
    if case == "wrong_token":
        env["JIRA_TOKEN"] = "not-a-real-token"
    elif case == "classic_token_as_bearer":
        env["JIRA_TOKEN"] = cloud.classic_token
    elif case == "wrong_cloud_id":
        args = [
            "run",
            "--cloud-id",
            cloud.org_id,
            "--gateway-url",
            cloud.gateway_url,
            *common(db, pdir),
        ]
    elif case == "bad_jql":
        args = [*args, "--jql", "project = = ABC"]
    elif case == "removed_endpoint":
        cloud.add_fault(r"search/jql", 410, times=1)
    elif case == "server_down":
        cloud.add_fault(r"search/jql", 503, times=2)
    elif case == "html_429":
        cloud.add_fault(r"search/jql", 429, times=2, retry_after=0, html=True)
    result = run_cli(args, env=env)
    assert result.exit_code == 1, result.output
    for fragment in expected:
        assert fragment in result.stderr, result.stderr
    assert "Traceback" not in result.output
    assert_unchanged(db, pdir, before, state_before)


def test_scoped_token_at_site_url_explains_gateway(cloud: Emulator, tmp_path: Path) -> None:
    db, pdir = tmp_path / "jira.duckdb", tmp_path / "p"
    args = ["run", "--auth", "bearer", "--base-url", cloud.site_url, *common(db, pdir)]
    result = run_cli(args, env={"JIRA_TOKEN": cloud.scoped_token})
    assert result.exit_code == 1
    assert "only through the gateway" in result.stderr
    assert not db.exists() or snapshot(db) == {}


def test_missing_token_is_a_usage_error(cloud: Emulator, tmp_path: Path) -> None:
    db, pdir = tmp_path / "jira.duckdb", tmp_path / "p"
    args = ["run", "--site-url", cloud.site_url, *common(db, pdir)]
    result = run_cli(args)
    assert result.exit_code == 2
    assert "JIRA_TOKEN" in result.stderr


def test_malformed_env_file_is_a_usage_error(cloud: Emulator, tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("JIRA_AUTH=bearer\nthis line is not an assignment\n")
    result = run_cli(["run"], cwd=tmp_path)
    assert result.exit_code == 2
    assert "Invalid line 2" in result.stderr
    assert "not an assignment" not in result.stderr


def test_misspelled_env_setting_is_a_usage_error(cloud: Emulator, tmp_path: Path) -> None:
    db, pdir = tmp_path / "jira.duckdb", tmp_path / "p"
    (tmp_path / ".env").write_text(f"JIRA_TOKEN={cloud.scoped_token}\nJIRA_DATSET=other\n")
    args = ["run", "--site-url", cloud.site_url, "--gateway-url", cloud.gateway_url]
    result = run_cli([*args, *common(db, pdir)], cwd=tmp_path)
    assert result.exit_code == 2, result.output
    assert "Unknown setting JIRA_DATSET on line 2" in result.stderr
    assert "Did you mean JIRA_DATASET?" in result.stderr
    assert cloud.scoped_token not in result.output
    assert not db.exists()


def test_env_file_with_known_settings_loads(cloud: Emulator, tmp_path: Path) -> None:
    db, pdir = tmp_path / "jira.duckdb", tmp_path / "p"
    (tmp_path / ".env").write_text(
        f"JIRA_TOKEN={cloud.scoped_token}\nJIRA_DATASET=other\nJIRA_MIN_RETRY_WAIT=0.01\n"
    )
    args = ["run", "--site-url", cloud.site_url, "--gateway-url", cloud.gateway_url]
    result = run_cli([*args, *common(db, pdir)], cwd=tmp_path)
    assert result.exit_code == 0, result.output
    assert query(db, "select count(*) from issues", dataset="other") == [(len(cloud.truth()),)]


@pytest.mark.parametrize(
    "case",
    [
        "read_only_mount",
        "parent_is_a_file",
        "path_is_a_folder",
        "link_loop",
        "link_into_missing_folder",
    ],
)
def test_unwritable_output_path_fails_clearly(cloud: Emulator, tmp_path: Path, case: str) -> None:
    if case == "read_only_mount":
        # Root ignores permission bits, so a read-only file system is the honest test.
        folder = tmp_path / "ro"
        folder.mkdir()
        mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=1m", "tmpfs", str(folder)])
        assert mounted.returncode == 0, "mounting a read-only tmpfs needs root"
        target = folder / "jira.duckdb"
    elif case == "parent_is_a_file":
        (tmp_path / "afile").write_text("x")
        target = tmp_path / "afile" / "jira.duckdb"
    elif case == "link_loop":
        target = tmp_path / "loop.duckdb"
        target.symlink_to(target)
    elif case == "link_into_missing_folder":
        target = tmp_path / "link.duckdb"
        target.symlink_to(tmp_path / "missing" / "jira.duckdb")
    else:
        target = tmp_path / "adir"
        target.mkdir()
    try:
        args = [
            "run",
            "--site-url",
            cloud.site_url,
            "--gateway-url",
            cloud.gateway_url,
            *common(target, tmp_path / "p"),
        ]
        result = run_cli(args, env={"JIRA_TOKEN": cloud.scoped_token})
    finally:
        if case == "read_only_mount":
            subprocess.run(["umount", str(tmp_path / "ro")])
    assert result.exit_code == 2, result.output
    assert "--duckdb-path" in result.stderr
    assert not any(r["path"].endswith("search/jql") for r in cloud.requests)


def test_token_never_appears_anywhere(cloud: Emulator, tmp_path: Path) -> None:
    token = "SECRET-canary-7f3a9c-" + "x" * 20
    cloud.add_token(token, {"read:jira-work", "read:jira-user"})
    db, pdir = tmp_path / "jira.duckdb", tmp_path / "p"
    args = [
        "run",
        "--site-url",
        cloud.site_url,
        "--gateway-url",
        cloud.gateway_url,
        *common(db, pdir),
    ]
    outputs = []
    ok = run_cli(args, env={"JIRA_TOKEN": token, "JIRA_LOG_LEVEL": "DEBUG"})
    assert ok.exit_code == 0, ok.output
    outputs.append(ok.output)
    cloud.add_fault(r"search/jql", 500, times=2)
    failed = run_cli(args, env={"JIRA_TOKEN": token})
    assert failed.exit_code == 1
    outputs.append(failed.output)
    flag = run_cli([*args, "--token", token, "--jql", "project = = ABC"])
    assert flag.exit_code == 1
    outputs.append(flag.output)
    for text in outputs:
        assert token not in text
    for path in [*pdir.rglob("*"), db]:
        if path.is_file():
            assert token.encode() not in path.read_bytes(), path


def test_changed_filter_requires_full_refresh(cloud: Emulator, tmp_path: Path) -> None:
    db, pdir = tmp_path / "jira.duckdb", tmp_path / "p"
    args = first_load(cloud, db, pdir)
    before = snapshot(db)
    state_before = (pdir / "jira_jira" / "state.json").read_text()
    env = {"JIRA_TOKEN": cloud.scoped_token}
    widened = run_cli([*args, "--jql", "project = XYZ"], env=env)
    assert widened.exit_code == 2, widened.output
    assert "JQL filter changed" in widened.stderr
    assert "--full-refresh" in widened.stderr
    assert_unchanged(db, pdir, before, state_before)
    refreshed = run_cli([*args, "--jql", "project = XYZ", "--full-refresh"], env=env)
    assert refreshed.exit_code == 0, refreshed.output
    expected = {t["id"]: t["key"] for t in cloud.truth() if t["key"].startswith("XYZ-")}
    assert loaded_ids(db) == expected
    # Spacing outside strings selects the same issues, so the dataset goes on.
    respaced = run_cli([*args, "--jql", "  project=XYZ\n ORDER BY key"], env=env)
    assert respaced.exit_code == 0, respaced.output
    assert loaded_ids(db) == expected


def test_invalid_dataset_name_is_a_usage_error(cloud: Emulator, tmp_path: Path) -> None:
    args = [
        "run",
        "--site-url",
        cloud.site_url,
        "--gateway-url",
        cloud.gateway_url,
        "--dataset",
        "my data-set!",
        *common(tmp_path / "jira.duckdb", tmp_path / "p"),
    ]
    result = run_cli(args, env={"JIRA_TOKEN": cloud.scoped_token})
    assert result.exit_code == 2
    assert "Invalid --dataset `my data-set!`" in result.stderr
    assert not (tmp_path / "p").exists() or not any((tmp_path / "p").iterdir())


def test_unreachable_host_says_could_not_connect(tmp_path: Path) -> None:
    args = [
        "run",
        "--auth",
        "basic",
        "--email",
        "a@example.com",
        "--base-url",
        "http://127.0.0.1:9",
        *common(tmp_path / "jira.duckdb", tmp_path / "p"),
    ]
    result = run_cli(args, env={"JIRA_TOKEN": "x" * 12})
    assert result.exit_code == 1, result.output
    assert "Could not connect to http://127.0.0.1:9" in result.stderr
    assert "rate-limiting" not in result.stderr


def test_status_in_empty_folder_creates_nothing(tmp_path: Path) -> None:
    result = run_cli(["status", "--pipelines-dir", str(tmp_path / "p")], cwd=tmp_path)
    # A pipeline that never ran fails the check, as a misspelled name would.
    assert result.exit_code == 1, result.output
    assert "last run: none recorded, and no state of pipeline jira_jira in " in result.stdout
    assert "no DuckDB file at jira.duckdb" in result.stdout
    assert not (tmp_path / "jira.duckdb").exists()

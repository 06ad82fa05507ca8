"""The emulator's command line: its options, and `--scopes` for a token that lacks some."""

from __future__ import annotations

import json
import subprocess
import sys

import httpx

from tests.helpers import REPO_ROOT


def test_scoped_token_has_only_given_scopes() -> None:
    command = [sys.executable, "-m", "pipelines.emulator", "--port", "0", "--issues", "3"]
    command += ["--scopes", "read:jira-work"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, cwd=REPO_ROOT)
    try:
        assert process.stdout is not None
        info = json.loads(process.stdout.readline())
        api = f"{info['gateway_url']}/ex/jira/{info['cloud_id']}/rest/api/3"
        headers = {"Authorization": f"Bearer {info['scoped_token']}"}
        with httpx.Client(headers=headers, timeout=10) as client:
            work = client.get(
                f"{api}/search/jql", params={"jql": "project is not empty order by id"}
            )
            user = client.get(f"{api}/myself")
    finally:
        process.terminate()
        process.wait(timeout=30)
    assert work.status_code == 200
    assert len(work.json()["issues"]) == 3
    # Jira's gateway returns 401 with this message to a token without the scope.
    assert user.status_code == 401
    assert user.json()["message"] == "Unauthorized; scope does not match"


def test_unknown_scope_is_rejected() -> None:
    command = [sys.executable, "-m", "pipelines.emulator", "--scopes", "read:jira-wrk"]
    done = subprocess.run(command, capture_output=True, text=True, cwd=REPO_ROOT, timeout=60)
    assert done.returncode == 2
    assert "--scopes: unknown scope `read:jira-wrk`" in done.stderr


def test_help_through_cli_lists_every_option() -> None:
    command = [sys.executable, "-m", "pipelines.cli", "emulator", "--help"]
    done = subprocess.run(command, capture_output=True, text=True, cwd=REPO_ROOT, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("usage: jira-etl emulator ")
    for option in ("--port", "--flavor", "--rate-limit", "--replay", "--scopes"):
        assert option in done.stdout

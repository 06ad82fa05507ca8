"""A run forked from the test's CLI server behaves as one started in a new interpreter."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli_process import run_forked


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JIRA_", "SOURCES__"))}
    env["RUNTIME__DLTHUB_TELEMETRY"] = "false"
    return env | extra


@pytest.mark.parametrize(
    ("args", "env_file"),
    [
        (["--help"], None),
        (["run", "--help"], None),
        (["run", "--site-url", "http://127.0.0.1:9", "--auth", "pat"], None),
        (["run"], "JIRA_DATSET=other\n"),
        (["status", "--pipelines-dir", "pipelines-here"], None),
    ],
)
def test_forked_run_matches_new_interpreter(
    tmp_path: Path, args: list[str], env_file: str | None
) -> None:
    if env_file is not None:
        (tmp_path / ".env").write_text(env_file)
    env = clean_env()
    started = subprocess.run(
        [sys.executable, "-m", "pipelines.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
    )
    forked = run_forked(args, env, str(tmp_path), 120)
    assert forked.returncode == started.returncode
    assert forked.stdout == started.stdout
    assert forked.stderr == started.stderr


def test_forked_run_reads_its_own_environment(tmp_path: Path) -> None:
    first = run_forked(["run"], clean_env(JIRA_DATASET="1bad"), str(tmp_path), 120)
    second = run_forked(["run"], clean_env(JIRA_DATASET="2bad"), str(tmp_path), 120)
    assert first.returncode == 2
    assert "`1bad`" in first.stderr
    assert second.returncode == 2
    assert "`2bad`" in second.stderr
    assert "`1bad`" not in second.stderr


def test_forked_run_times_out() -> None:
    args = ["emulator", "--port", "0"]
    with pytest.raises(subprocess.TimeoutExpired):
        run_forked(args, clean_env(), os.getcwd(), 3)

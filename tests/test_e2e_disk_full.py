"""A destination without room fails clearly before loading, and the next run completes the work."""

from __future__ import annotations

import datetime as dt
import errno
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from pipelines.destinations import duckdb_held
from pipelines.emulator import Emulator
from pipelines.errors import ConfigError, JiraEtlError
from pipelines.runner import RunOptions, check_writable, run
from pipelines.status import write_run_record
from tests.helpers import emulator_run_args, query, run_cli, snapshot

START = dt.datetime(2026, 8, 3, 10, 0, 1, tzinfo=dt.UTC)


def mount_tmpfs(folder: Path, size: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)])
    assert mounted.returncode == 0, "mounting a small tmpfs needs root"


def fill(path: Path) -> None:
    """Write `path` until its file system is full."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT)
    try:
        while True:
            os.write(descriptor, b"x" * 4096)
    except OSError as exc:
        assert exc.errno == errno.ENOSPC
    finally:
        os.close(descriptor)


def test_full_disk_fails_clearly_then_recovers(tmp_path: Path) -> None:
    disk = tmp_path / "small"
    mount_tmpfs(disk, "16m")
    try:
        with Emulator(issues=30, seed=4, start=START) as emu:
            db = disk / "jira.duckdb"
            args = [
                "run",
                "--site-url",
                emu.site_url,
                "--gateway-url",
                emu.gateway_url,
                "--duckdb-path",
                str(db),
                "--pipelines-dir",
                str(tmp_path / "p"),
                "--max-retries",
                "1",
                "--skip-delete-sweep",
            ]
            env = {"JIRA_TOKEN": emu.scoped_token}
            first = run_cli(args, env=env)
            assert first.exit_code == 0, first.output
            # dlt restores state only from packages recorded as complete in _dlt_loads.
            completed = "select load_id from _dlt_loads where status = 0 order by 1"
            loads_before = query(db, completed)
            for number in range(1500):
                emu.create_issue("ABC", summary=f"issue {number} that fills the disk " * 6)
            before = snapshot(db)
            full = run_cli(args, env=env)
            assert full.exit_code == 1, full.output
            assert "Not enough free space" in full.stderr
            assert "Traceback" not in full.output
            assert query(db, completed) == loads_before
            # The space check stops the load before any table takes rows.
            assert snapshot(db) == before
            grown = subprocess.run(["mount", "-o", "remount,size=256m", str(disk)])
            assert grown.returncode == 0
            again = run_cli(args, env=env)
            assert again.exit_code == 0, again.output
            truth = {t["id"]: t["key"] for t in emu.truth()}
            assert dict(query(db, "select id, key from issues")) == truth
            assert query(db, "select count(*) - count(distinct id) from issues") == [(0,)]
    finally:
        subprocess.run(["umount", str(disk)])


def fail_load_filling_disk(
    monkeypatch: pytest.MonkeyPatch, emu: Emulator, options: RunOptions, disk: Path
) -> tuple[str, dict[str, Any]]:
    """Run a one-package load that fills `disk` before its third checkpoint.

    Returns:
        The failure message and the source settings, for the run that follows.
    """
    checkpoints: list[int] = []
    real_checkpoint = duckdb_held.checkpoint

    def fill_before_third(connection: Any) -> None:
        # Another program takes the last free byte while the load is under way.
        checkpoints.append(1)
        if len(checkpoints) == 3:
            fill(disk / "filler")
        real_checkpoint(connection)

    settings = {
        "auth": "bearer",
        "token": emu.scoped_token,
        "site_url": emu.site_url,
        "gateway_url": emu.gateway_url,
        "issues_per_load": 0,
    }
    monkeypatch.setattr(duckdb_held, "checkpoint", fill_before_third)
    with pytest.raises(JiraEtlError) as failed:
        run(options, settings)
    monkeypatch.undo()
    monkeypatch.setenv("RUNTIME__DLTHUB_TELEMETRY", "false")
    assert len(checkpoints) >= 3
    return str(failed.value), settings


def test_disk_filled_during_load_fails_clearly_then_recovers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RUNTIME__DLTHUB_TELEMETRY", "false")
    disk = tmp_path / "small"
    mount_tmpfs(disk, "64m")
    database = disk / "jira.duckdb"
    options = RunOptions(
        pipeline_name="filled", duckdb_path=str(database), pipelines_dir=str(tmp_path / "p")
    )
    try:
        with Emulator(issues=3000, seed=4, start=START) as emu:
            message, settings = fail_load_filling_disk(monkeypatch, emu, options, disk)
            assert "No space left on device" in message, message
            assert "Free disk space" in message, message
            assert emu.scoped_token not in message

            (disk / "filler").unlink()
            run(options, settings)
            truth = {t["id"]: t["key"] for t in emu.truth()}
            assert len(truth) == 3000
            assert dict(query(database, "select id, key from issues")) == truth
            assert query(database, "select count(*) - count(distinct id) from issues") == [(0,)]
    finally:
        subprocess.run(["umount", str(disk)])


def test_full_working_dir_during_load_names_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RUNTIME__DLTHUB_TELEMETRY", "false")
    disk = tmp_path / "small"
    mount_tmpfs(disk, "64m")
    database = tmp_path / "jira.duckdb"
    pipelines = disk / "p"
    options = RunOptions(
        pipeline_name="filled", duckdb_path=str(database), pipelines_dir=str(pipelines)
    )
    try:
        with Emulator(issues=300, seed=4, start=START) as emu:
            # This time the full disk is that of dlt's working files.
            message, settings = fail_load_filling_disk(monkeypatch, emu, options, disk)
            assert "No space left on device" in message, message
            assert "--pipelines-dir" in message, message
            assert str(pipelines) in message, message
            assert emu.scoped_token not in message

            (disk / "filler").unlink()
            run(options, settings)
            truth = {t["id"]: t["key"] for t in emu.truth()}
            assert len(truth) == 300
            assert dict(query(database, "select id, key from issues")) == truth
    finally:
        subprocess.run(["umount", str(disk)])


def test_full_disk_probe_names_disk(tmp_path: Path) -> None:
    disk = tmp_path / "full"
    mount_tmpfs(disk, "1m")
    try:
        fill(disk / "filler")
        db = disk / "jira.duckdb"
        with pytest.raises(JiraEtlError) as failed:
            check_writable(db)
        # A full disk is not a mistake in the settings, so it exits 1, not 2.
        assert not isinstance(failed.value, ConfigError)
        message = str(failed.value)
        assert "No space left" in message
        assert "Free disk space" in message
        assert str(db) in message
        # The probe that found the disk full is gone.
        assert sorted(path.name for path in disk.iterdir()) == ["filler"]
    finally:
        subprocess.run(["umount", str(disk)])


def test_run_record_skipped_on_full_disk(tmp_path: Path) -> None:
    disk = tmp_path / "full"
    mount_tmpfs(disk, "1m")
    try:
        fill(disk / "filler")
        started = dt.datetime.now(dt.UTC)
        write_run_record(disk, "jira_jira", outcome="failed", started_at=started, error="x")
        # No exception reaches the run, and neither the record nor its temporary file is left.
        assert sorted(path.name for path in disk.iterdir()) == ["filler"]
    finally:
        subprocess.run(["umount", str(disk)])


def test_full_working_dir_fails_clearly(tmp_path: Path) -> None:
    disk = tmp_path / "small"
    # Room for the extracted files of 400 issues but not for their normalized copy.
    mount_tmpfs(disk, "512k")
    try:
        with Emulator(issues=400, seed=11, start=START) as emu:
            db = tmp_path / "jira.duckdb"
            args = emulator_run_args(emu, db, disk / "p", "--max-retries", "1")
            env = {"JIRA_TOKEN": emu.scoped_token}
            full = run_cli(args, env=env)
            assert full.exit_code == 1, full.output
            assert "Traceback" not in full.stderr, full.stderr
            assert full.stderr.count("Error:") == 1, full.stderr
            assert "No space left" in full.stderr
            assert "--pipelines-dir" in full.stderr, full.stderr.splitlines()[-1]
            assert emu.scoped_token not in full.output
            grown = subprocess.run(["mount", "-o", "remount,size=256m", str(disk)])
            assert grown.returncode == 0
            again = run_cli(args, env=env)
            assert again.exit_code == 0, again.output
            truth = {t["id"]: t["key"] for t in emu.truth()}
            assert len(truth) == 400
            assert dict(query(db, "select id, key from issues")) == truth
    finally:
        subprocess.run(["umount", str(disk)])

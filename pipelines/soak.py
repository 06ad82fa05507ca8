"""Soak test: many incremental runs against a changing, failing emulator, then a full comparison.

    python -m pipelines.soak --runs 30 --seed 1 --kill-rate 0.2 --fault-rate 0.05

Each run is the real CLI in a subprocess. While runs go on, a thread edits, creates, deletes and
moves issues and adds or removes comments and worklogs; the emulator fails a share of requests
(429, 500, 503, dropped connections), and some runs are killed with SIGKILL at a random moment
(extract, normalize or load). Afterwards the faults stop, clean runs finish the work, and every
table is compared with the emulator's own truth. The exit status is 0 only when nothing was
lost, doubled or stale.
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from pipelines.destinations.duckdb_catalog import quote_identifier
from pipelines.emulator import Emulator

FAULT_STATUSES = {0, 429, 500, 503}  # 0: a dropped connection
STRATEGIES = (["--strategy", "parallel"], ["--strategy", "sequential", "--page-size", "9"])
# Profile zones the account switches between, on both sides of UTC.
ZONES = ("America/Los_Angeles", "Asia/Kolkata", "UTC", "Pacific/Chatham")


@dataclass
class SoakReport:
    """What a soak did and found; `ok` when nothing was lost, doubled or stale."""

    runs: int = 0
    failed_runs: int = 0
    faults: int = 0
    kills: int = 0
    mutations: int = 0
    issues_checked: int = 0
    lost: int = 0
    doubled: int = 0
    stale: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.lost == 0 and self.doubled == 0 and self.stale == 0

    def lines(self) -> list[str]:
        out = [
            f"runs: {self.runs} ({self.failed_runs} failed, {self.kills} killed)",
            f"faults injected: {self.faults}",
            f"kills: {self.kills}",
            f"site changes: {self.mutations}",
            f"issues checked: {self.issues_checked}",
            f"lost: {self.lost}",
            f"doubled: {self.doubled}",
            f"stale: {self.stale}",
        ]
        return out + [f"  {problem}" for problem in self.problems[:40]]


class SiteActivity:
    """A thread that changes the emulated site at random moments, reproducibly per seed."""

    def __init__(self, emu: Emulator, seed: int, pause_seconds: float = 0.05) -> None:
        self.emu = emu
        self.rng = random.Random(f"{seed}:activity")
        self.pause = pause_seconds
        self.changes = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="soak-activity", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def _loop(self) -> None:
        while not self._stop.wait(self.pause):
            self.change_once()

    def change_once(self) -> None:
        """Apply one random change to a random live issue."""
        rng, emu = self.rng, self.emu
        truth = emu.truth()
        if not truth:
            emu.create_issue("ABC", summary="soak created")
            self.changes += 1
            return
        issue = rng.choice(truth)
        kind = rng.choices(
            ["edit", "labels", "create", "delete", "move", "comment", "worklog"],
            [5, 3, 2, 1, 1, 2, 2],
        )[0]
        try:
            if kind == "edit":
                emu.edit_issue(issue["id"], summary=f"soak edit {rng.randrange(10**6)}")
            elif kind == "labels":
                labels = rng.sample(["alpha", "beta", "gamma", "delta"], rng.randrange(0, 3))
                emu.edit_issue(issue["id"], labels=labels)
            elif kind == "create":
                emu.create_issue(rng.choice(["ABC", "XYZ"]), summary="soak created")
            elif kind == "delete":
                emu.delete_issue(issue["id"])
            elif kind == "move":
                target = "XYZ" if issue["project_key"] == "ABC" else "ABC"
                emu.move_issue(issue["id"], target)
            elif kind == "comment":
                comments = emu.comments_of(issue["id"])
                if comments and rng.random() < 0.4:
                    emu.delete_comment(rng.choice(comments)["id"])
                else:
                    emu.add_comment(issue["id"], f"soak comment {rng.randrange(10**6)}")
            else:
                worklogs = emu.worklogs_of(issue["id"])
                if worklogs and rng.random() < 0.5:
                    emu.update_worklog(rng.choice(worklogs)["id"], 60 * rng.randrange(1, 90))
                else:
                    emu.add_worklog(issue["id"], 60 * rng.randrange(1, 90))
        except (KeyError, ValueError):
            return  # the issue vanished or moved meanwhile
        self.changes += 1


def cli_command(emu: Emulator, db: Path, pipelines_dir: Path) -> list[str]:
    return [
        sys.executable,
        "-m",
        "pipelines.cli",
        "run",
        "--site-url",
        emu.site_url,
        "--gateway-url",
        emu.gateway_url,
        "--duckdb-path",
        str(db),
        "--pipelines-dir",
        str(pipelines_dir),
        "--max-retries",
        "8",
        "--on-locked",
        "wait",
    ]


def cli_env(emu: Emulator) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JIRA_", "SOURCES__"))}
    env.update(
        {
            "JIRA_TOKEN": emu.scoped_token,
            "JIRA_MIN_RETRY_WAIT": "0.02",
            "RUNTIME__DLTHUB_TELEMETRY": "false",
            "JIRA_LOG_LEVEL": "WARNING",
        }
    )
    return env


def run_once(
    command: list[str], env: dict[str, str], kill_after: float | None, log: Path
) -> tuple[int, bool]:
    """Run the CLI once; kill it with SIGKILL after `kill_after` seconds. Return (code, killed)."""
    with open(log, "ab") as out:
        process = subprocess.Popen(command, env=env, stdout=out, stderr=out)
        try:
            process.wait(timeout=kill_after if kill_after is not None else 600)
            return process.returncode, False
        except subprocess.TimeoutExpired:
            if kill_after is None:
                process.kill()
                process.wait()
                return -1, False
            os.kill(process.pid, signal.SIGKILL)
            process.wait()
            return process.returncode, True


def soak(
    runs: int,
    seed: int,
    kill_rate: float,
    fault_rate: float,
    *,
    issues: int = 60,
    workdir: Path | None = None,
    echo: Any = print,
) -> SoakReport:
    """Run the soak and compare the loaded tables with the emulator's truth."""
    rng = random.Random(f"{seed}:soak")
    report = SoakReport()
    folder = Path(workdir or tempfile.mkdtemp(prefix="jira-etl-soak-"))
    folder.mkdir(parents=True, exist_ok=True)
    db, pipelines_dir, log = folder / "jira.duckdb", folder / "pipelines", folder / "runs.log"
    with Emulator(issues=issues, seed=seed) as emu:
        command, env = cli_command(emu, db, pipelines_dir), cli_env(emu)
        if fault_rate > 0:
            emu.fault_plan(seed, fault_rate)
        # Edits between search pages, and a search index that lags behind (within the lookback).
        emu.script.edit_between_pages(1)
        emu.visibility_lag_seconds = 20
        activity = SiteActivity(emu, seed)
        activity.start()
        try:
            for number in range(1, runs + 1):
                kill_after = rng.uniform(0.3, 5.0) if rng.random() < kill_rate else None
                # Small sequential pages put page boundaries (and edits between them) in play.
                strategy = rng.choice(STRATEGIES)
                code, killed = run_once(command + strategy, env, kill_after, log)
                report.runs += 1
                report.kills += killed
                report.failed_runs += (code != 0) and not killed
                echo(f"run {number}: {'killed' if killed else f'exit {code}'}")
                emu.advance(rng.uniform(1, 90))
                emu.set_time_zone(rng.choice(ZONES))
        finally:
            activity.stop()
        report.mutations = activity.changes
        report.faults = sum(1 for r in emu.requests if r["status"] in FAULT_STATUSES)
        emu.clear_faults()
        emu.script.stop()
        emu.visibility_lag_seconds = 0
        # Let the worklog deletion feed and the search index catch up, then finish the work.
        emu.advance(120)
        for _ in range(2):
            code, _ = run_once(command, env, None, log)
            report.runs += 1
            if code != 0:
                report.failed_runs += 1
                report.problems.append(f"a clean run after the soak exited {code}; see {log}")
        compare(emu, db, report)
    return report


def compare(emu: Emulator, db: Path, report: SoakReport) -> None:
    """Count lost, doubled and stale rows of the loaded tables against the truth."""
    truth = {t["id"]: t for t in emu.truth()}
    report.issues_checked = len(truth)
    connection = duckdb.connect(str(db), read_only=True)
    try:
        catalog = connection.execute("select current_database()").fetchone()[0]  # type: ignore[index]
        connection.execute(f"use {quote_identifier(catalog)}.jira")

        def rows(sql: str) -> list[tuple[Any, ...]]:
            return connection.execute(sql).fetchall()

        issues = rows("select id, key, summary, updated_at, is_deleted from issues")
        counts = Counter(row[0] for row in issues)
        report.doubled += sum(n - 1 for n in counts.values() if n > 1)
        report.problems.extend(f"issues: doubled id {i}" for i, n in counts.items() if n > 1)
        loaded = {row[0]: row for row in issues}
        for issue_id, t in truth.items():
            row = loaded.get(issue_id)
            if row is None or row[4]:
                report.lost += 1
                report.problems.append(f"lost: {t['key']} ({'deleted' if row else 'missing'})")
            elif (row[1], row[2], row[3]) != (t["key"], t["summary"], t["updated"]):
                report.stale += 1
                report.problems.append(f"stale issue {t['key']}: {row[1:4]}")
        for issue_id, row in loaded.items():
            if issue_id not in truth and not row[4]:
                report.stale += 1
                report.problems.append(f"deleted issue {row[1]} not marked deleted")
        _compare_children(
            report,
            "issue_labels",
            rows("select issue_id, label from issue_labels"),
            {(i, label) for i, t in truth.items() for label in t["labels"]},
            truth,
        )
        for table, name_column, field in (
            ("issue_components", "component_name", "components"),
            ("issue_fix_versions", "version_name", "fix_versions"),
            ("issue_affected_versions", "version_name", "versions"),
        ):
            _compare_children(
                report,
                table,
                rows(f"select issue_id, {name_column} from {table}"),
                {(i, name) for i, t in truth.items() for name in t[field]},
                truth,
            )
        _compare_children(
            report,
            "issue_sprints",
            rows("select issue_id, sprint_id from issue_sprints"),
            {(i, sprint) for i, t in truth.items() for sprint in t["sprint_ids"]},
            truth,
        )
        comments = {(i, c["id"], c["updated"]) for i in truth for c in emu.comments_of(i)}
        _compare_children(
            report,
            "issue_comments",
            rows("select issue_id, id, updated_at from issue_comments"),
            comments,
            truth,
        )
        worklogs = {
            (i, w["id"], w["time_spent_seconds"]) for i in truth for w in emu.worklogs_of(i)
        }
        _compare_children(
            report,
            "worklogs",
            rows("select issue_id, id, time_spent_seconds from worklogs"),
            worklogs,
            truth,
        )
    finally:
        connection.close()


def _compare_children(
    report: SoakReport,
    table: str,
    loaded_rows: list[tuple[Any, ...]],
    expected: set[tuple[Any, ...]],
    truth: dict[int, Any],
) -> None:
    counts = Counter(loaded_rows)
    report.doubled += sum(n - 1 for n in counts.values() if n > 1)
    report.problems.extend(f"{table}: doubled {row}" for row, n in counts.items() if n > 1)
    live = {row for row in counts if row[0] in truth}
    for row in sorted(expected - live, key=repr):
        report.lost += 1
        report.problems.append(f"{table}: missing {row}")
    for row in sorted(live - expected, key=repr):
        report.stale += 1
        report.problems.append(f"{table}: stale {row}")


def main(argv: list[str] | None = None) -> int:
    """Command line entry point; returns the exit status."""
    parser = argparse.ArgumentParser(prog="python -m pipelines.soak", description=__doc__)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--kill-rate", type=float, default=0.2)
    parser.add_argument("--fault-rate", type=float, default=0.05)
    parser.add_argument("--issues", type=int, default=60)
    parser.add_argument("--workdir", type=Path, default=None)
    options = parser.parse_args(argv)
    report = soak(
        options.runs,
        options.seed,
        options.kill_rate,
        options.fault_rate,
        issues=options.issues,
        workdir=options.workdir,
    )
    for line in report.lines():
        print(line)
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())

"""Issues with partial Data Center histories across a run stopped during its last load."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from pipelines.emulator import Emulator
from tests.helpers import REPO_ROOT, history_rows, query, run_cli, site_run_args
from tests.test_dc_embedded_changelog_faults import _capped_without_endpoint

# Runs the CLI and sends itself SIGINT when each load step returns. dlt finishes a load that a
# Ctrl-C interrupts, so this is a Ctrl-C late in the run's last load.
INTERRUPT_AFTER_LOAD = """
import os, signal, sys
import pipelines.runner as runner
from pipelines.cli import main

load = runner.load_within_memory


def load_then_interrupt(*args, **kwargs):
    info = load(*args, **kwargs)
    os.kill(os.getpid(), signal.SIGINT)
    return info


runner.load_within_memory = load_then_interrupt
sys.argv = ["jira-etl", *sys.argv[1:]]
main()
"""


# Runs the CLI and ends the process, as kill -9 would, once the first load job has committed
# its rows and before dlt records the job as done. The next run loads the package it left.
CRASH_DURING_LOAD = """
import os, sys
from dlt.common.storages.load_package import PackageStorage
from pipelines.cli import main


def save_pending_transition(self, load_id, file_name, *args, **kwargs):
    os._exit(9)


PackageStorage.save_pending_transition = save_pending_transition
sys.argv = ["jira-etl", *sys.argv[1:]]
main()
"""


def _run_stopped(script: str, args: list[str], token: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JIRA_", "SOURCES__"))}
    env |= {"JIRA_TOKEN": token, "RUNTIME__DLTHUB_TELEMETRY": "false"}
    return subprocess.run(
        [sys.executable, "-c", script, *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=str(REPO_ROOT),
        timeout=180,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),  # noqa: PLW1509
    )


@pytest.mark.parametrize(
    ("script", "status", "message", "later_message"),
    [
        (INTERRUPT_AFTER_LOAD, 130, "interrupted during its last load", ""),
        (CRASH_DURING_LOAD, 9, "", "Finishing the load packages a previous run left pending"),
    ],
    ids=["ctrl-c", "kill"],
)
def test_partial_histories_survive_stopped_load(
    tmp_path: Path, script: str, status: int, message: str, later_message: str
) -> None:
    # The stopped run's last load moves the cursor, at once or when the next run finishes
    # the package, so only the stored ids bring the partial issues back. Once the endpoint
    # serves them, every history is loaded.
    with Emulator(issues=30, flavor="dc") as emu:
        capped = _capped_without_endpoint(emu, 2)
        args = site_run_args(
            emu.site_url, emu.site_url, tmp_path / "jira.duckdb", tmp_path / "p", "--auth", "pat"
        )
        stopped = _run_stopped(script, args, emu.pat)
        emu.clear_faults()
        emu.store.dc_embedded_histories = None
        later = run_cli(args, env={"JIRA_TOKEN": emu.pat})
        truth = history_rows(emu)

    assert capped
    assert stopped.returncode == status, stopped.stderr
    assert message in stopped.stderr
    assert later.exit_code == 0, later.output
    assert later_message in later.stderr
    loaded = set(
        query(
            tmp_path / "jira.duckdb",
            "select issue_id, history_id, item_position from issue_changelog where history_id > 0",
        )
    )
    missing = {issue_id for issue_id, _, _ in truth - loaded}
    assert not missing, f"histories never loaded for {sorted(missing)}"

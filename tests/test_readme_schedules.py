"""The README's cron line, systemd unit and Airflow task run as written, against the emulator.

Each test reads the command out of the README's "Running on a schedule" section, checks that it
is the command pinned here, replaces only the install folder and the log path with temporary
ones, and runs it with `bash -c`.
"""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
from pathlib import Path

import pytest

from pipelines.emulator import Emulator
from tests.helpers import REPO_ROOT, query

README = REPO_ROOT / "README.md"
SECTION = "## Running on a schedule"
# The placeholders the README documents; the tests replace them and nothing else.
INSTALL_DIR = "/srv/jira-etl"
LOG_PATH = "/var/log/jira-etl.log"

CRON_COMMAND = (
    "cd /srv/jira-etl && .venv/bin/jira-etl --log-format json run "
    "> /dev/null 2>> /var/log/jira-etl.log"
)
SYSTEMD_EXEC_START = "/srv/jira-etl/.venv/bin/jira-etl run"
AIRFLOW_COMMAND = "cd /srv/jira-etl && .venv/bin/jira-etl run"
ISSUES = 25


def schedule_blocks() -> list[tuple[str, str]]:
    """Return `(language, body)` of each fenced code block in the schedule section."""
    text = README.read_text(encoding="utf-8")
    start = text.index(SECTION)
    following = text.find("\n## ", start + len(SECTION))
    section = text[start : following if following != -1 else len(text)]
    return re.findall(r"^```(\w*)\n(.*?)^```", section, flags=re.MULTILINE | re.DOTALL)


def cron_command() -> str:
    """Return the command of the README's crontab line: what follows the five time fields."""
    bodies = [body for language, body in schedule_blocks() if language == "cron"]
    assert len(bodies) == 1, f"expected one cron block in the README, found {len(bodies)}"
    lines = [line for line in bodies[0].splitlines() if line.strip() and not line.startswith("#")]
    assert len(lines) == 1, f"expected one crontab line, found {lines}"
    fields = lines[0].split(maxsplit=5)
    assert len(fields) == 6, f"a crontab line needs five time fields and a command: {lines[0]}"
    return fields[5]


def systemd_unit(section_name: str) -> dict[str, str]:
    """Return the `key=value` settings of the README's unit file that has `[section_name]`."""
    bodies = [body for language, body in schedule_blocks() if f"[{section_name}]" in body]
    assert len(bodies) == 1, f"expected one unit with [{section_name}], found {len(bodies)}"
    settings: dict[str, str] = {}
    for line in bodies[0].splitlines():
        if "=" in line and not line.startswith(("#", ";")):
            key, value = line.split("=", 1)
            settings[key.strip()] = value.strip()
    return settings


def airflow_command() -> str:
    """Return the `bash_command` of the BashOperator in the README's DAG."""
    bodies = [body for language, body in schedule_blocks() if language == "python"]
    assert len(bodies) == 1, f"expected one Python block in the section, found {len(bodies)}"
    commands = [
        keyword.value.value
        for node in ast.walk(ast.parse(bodies[0]))
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "BashOperator"
        for keyword in node.keywords
        if keyword.arg == "bash_command" and isinstance(keyword.value, ast.Constant)
    ]
    assert len(commands) == 1, f"expected one BashOperator(bash_command=...), found {commands}"
    return commands[0]


def localize(command: str, log_path: Path) -> str:
    """Point the install folder at this checkout and the log at a temporary file."""
    return command.replace(INSTALL_DIR, str(REPO_ROOT)).replace(LOG_PATH, str(log_path))


def schedule_env(emu: Emulator, tmp_path: Path) -> dict[str, str]:
    """The environment a scheduler would give the command, with settings for the emulator."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JIRA_", "SOURCES__"))}
    env.update(
        {
            "RUNTIME__DLTHUB_TELEMETRY": "false",
            "JIRA_TOKEN": emu.scoped_token,
            "JIRA_SITE_URL": emu.site_url,
            "JIRA_GATEWAY_URL": emu.gateway_url,
            "JIRA_DUCKDB_PATH": str(tmp_path / "jira.duckdb"),
            "JIRA_PIPELINES_DIR": str(tmp_path / "pipelines"),
            "JIRA_MIN_RETRY_WAIT": "0.05",
        }
    )
    return env


def run_bash(command: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", "-c", command],
        capture_output=True,
        text=True,
        env=env,
        cwd=str(cwd),
        timeout=180,
    )


@pytest.fixture
def emu():
    with Emulator(issues=ISSUES, seed=5) as server:
        yield server


def test_readme_commands_are_pinned() -> None:
    assert cron_command() == CRON_COMMAND
    assert systemd_unit("Service")["ExecStart"] == SYSTEMD_EXEC_START
    assert airflow_command() == AIRFLOW_COMMAND


def test_commands_use_documented_placeholders() -> None:
    assert INSTALL_DIR in cron_command()
    assert LOG_PATH in cron_command()
    assert systemd_unit("Service")["WorkingDirectory"] == INSTALL_DIR
    assert INSTALL_DIR in airflow_command()


def test_cron_line_loads_and_logs_json(emu, tmp_path) -> None:
    log_path = tmp_path / "jira-etl.log"
    command = localize(cron_command(), log_path)

    completed = run_bash(command, schedule_env(emu, tmp_path), cwd=tmp_path)

    assert completed.returncode == 0, completed.stderr + log_path.read_text()
    assert completed.stdout == ""
    assert completed.stderr == ""
    assert query(tmp_path / "jira.duckdb", "select count(*) from issues") == [(ISSUES,)]
    lines = log_path.read_text(encoding="utf-8").splitlines()
    assert lines, "the cron line wrote nothing to its log"
    for line in lines:
        entry = json.loads(line)
        assert {"time", "level", "logger", "message"} <= entry.keys(), line
    assert emu.scoped_token not in log_path.read_text(encoding="utf-8")


def test_systemd_service_loads(emu, tmp_path) -> None:
    service = systemd_unit("Service")
    assert service["Type"] == "oneshot"
    working_dir = Path(localize(service["WorkingDirectory"], tmp_path / "unused.log"))
    command = localize(service["ExecStart"], tmp_path / "unused.log")

    completed = run_bash(command, schedule_env(emu, tmp_path), cwd=working_dir)

    assert completed.returncode == 0, completed.stderr
    assert query(tmp_path / "jira.duckdb", "select count(*) from issues") == [(ISSUES,)]


def test_systemd_timer_starts_service() -> None:
    timer = systemd_unit("Timer")
    assert timer["OnCalendar"] == "*:0/15"
    assert timer["WantedBy"] == "timers.target"
    # A timer without Unit= starts the service of the same name, so both files must match.
    assert "Unit" not in timer
    blocks = "\n".join(body for _language, body in schedule_blocks())
    assert "# /etc/systemd/system/jira-etl.service" in blocks
    assert "# /etc/systemd/system/jira-etl.timer" in blocks


def test_airflow_task_loads(emu, tmp_path) -> None:
    command = localize(airflow_command(), tmp_path / "unused.log")

    completed = run_bash(command, schedule_env(emu, tmp_path), cwd=tmp_path)

    assert completed.returncode == 0, completed.stderr
    assert query(tmp_path / "jira.duckdb", "select count(*) from issues") == [(ISSUES,)]
    assert "issues: 25" in completed.stdout

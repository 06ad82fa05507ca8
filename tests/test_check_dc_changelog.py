"""`jira-etl check` on a Data Center server without the per-issue changelog endpoint."""

from __future__ import annotations

from pipelines.emulator import Emulator
from tests.helpers import run_cli


def test_check_changelog_falls_back() -> None:
    with Emulator(issues=5, flavor="dc") as emu:
        # A server without the endpoint returns 404, so a run reads ?expand=changelog instead.
        emu.add_fault(r"/issue/\d+/changelog$", 404, times=None)
        result = run_cli(
            ["check", "--auth", "pat", "--site-url", emu.site_url], env={"JIRA_TOKEN": emu.pat}
        )
    assert "[fail]" not in result.output
    assert "?expand=changelog answered" in result.output
    assert "All checks passed." in result.output
    assert result.exit_code == 0

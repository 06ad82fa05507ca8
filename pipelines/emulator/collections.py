"""Collection endpoints: changelogs, comments, worklogs and reference lists."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pipelines.emulator.render import View
from pipelines.emulator.search import ApiError

if TYPE_CHECKING:
    from pipelines.emulator import Emulator


def route_collections(
    emu: Emulator, method: str, path: str, params: dict[str, Any], view: View, account: int
) -> Any:
    """Serve a collection endpoint, or raise 404 for a path the emulator does not serve."""
    raise ApiError(404, [f"No resource found for {method} {path}."])

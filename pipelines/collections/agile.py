"""Boards and their sprints from the agile API (`/rest/agile/1.0`).

Scoped tokens need `read:board-scope:jira-software` for boards and `read:sprint:jira-software`
for sprints. Without them the gateway answers 401; the caller then keeps the sprints found in
the issues' Sprint field and warns with the missing scope's name.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

from pipelines.client.transport import JiraClient
from pipelines.collections.paging import offset_pages
from pipelines.errors import BadRequestError

AGILE_ROOT = "/rest/agile/1.0"
BOARD_SCOPE = "read:board-scope:jira-software"
SPRINT_SCOPE = "read:sprint:jira-software"

logger = logging.getLogger("jira_etl.agile")
PAGE_SIZE = 50


def read_boards(client: JiraClient) -> Iterator[dict[str, Any]]:
    """Yield every board visible to the caller."""
    for page in offset_pages(client, f"{AGILE_ROOT}/board", "values", page_size=PAGE_SIZE):
        yield from page


def read_board_sprints(client: JiraClient, board_id: int) -> list[dict[str, Any]]:
    """Return every sprint of a board; a board without sprints (Kanban) returns []."""
    path = f"{AGILE_ROOT}/board/{board_id}/sprint"
    try:
        return [
            s for page in offset_pages(client, path, "values", page_size=PAGE_SIZE) for s in page
        ]
    except BadRequestError:
        # Jira responds to a Kanban board with 400 "The board does not support sprints", in
        # the caller's language, so the status decides.
        logger.info("Board %s has no sprints (400, as for a Kanban board); skipped.", board_id)
        return []

"""Scripted site activity during a load, reproducible from a seed.

`edit_between_pages(n)` edits `n` issues that match a search each time a client asks for the
next page of it, so `ORDER BY updated` results shift under the client as they do on a busy site.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import TYPE_CHECKING

from pipelines.emulator.generate import IssueRecord
from pipelines.emulator.richtext import WORDS

if TYPE_CHECKING:
    from pipelines.emulator.store import Store


class Script:
    """Edits applied between the pages of a search; `edited` lists the issue ids in order."""

    def __init__(self, store: Store, seed: int) -> None:
        self._store = store
        self._rng = random.Random(f"{seed}:script")
        self._per_page = 0
        self._pages_left: int | None = None
        self.edited: list[int] = []

    def edit_between_pages(self, n: int, pages: int | None = None) -> None:
        """Edit `n` random matching issues before each next-page request of a search.

        Args:
            n: issues edited per page boundary; 0 stops the script.
            pages: page boundaries to act on before stopping; None acts on all of them.
        """
        if n < 0:
            raise ValueError(f"Invalid number of edits `{n}`: expected 0 or more.")
        self._per_page = n
        self._pages_left = pages
        self._store.page_hook = self._between_pages if n else None

    def stop(self) -> None:
        self.edit_between_pages(0)

    def _between_pages(self, matching: Callable[[], list[IssueRecord]]) -> None:
        if self._pages_left is not None:
            if self._pages_left <= 0:
                return
            self._pages_left -= 1
        live = [r for r in matching() if r.id in self._store.records]
        chosen = self._rng.sample(live, min(self._per_page, len(live)))
        for record in sorted(chosen, key=lambda r: r.id):
            summary = " ".join(self._rng.choice(WORDS) for _ in range(4)).capitalize()
            self._store.edit(record.id, {"summary": summary})
            self.edited.append(record.id)

"""A client whose retries are stopped makes no further attempt and ends its wait at once."""

from __future__ import annotations

import threading
import time

from pipelines.client.auth import build_auth
from pipelines.client.connection import resolve_connection
from pipelines.client.transport import JiraClient, RetryPolicy
from pipelines.emulator import Emulator


def test_stop_ends_retry_wait_at_once() -> None:
    with Emulator(issues=5, seed=1) as emu:
        auth = build_auth("bearer", emu.scoped_token)
        connection = resolve_connection(auth, site_url=emu.site_url, gateway_url=emu.gateway_url)
        emu.add_fault(r"/field$", 503, times=None)
        # Five retries, each after a wait of 20 s or more.
        retry = RetryPolicy(max_attempts=6, backoff_base=20, backoff_cap=60, min_wait=20)
        failures: list[Exception] = []

        def read_fields() -> None:
            try:
                client.get(connection.api_path("field"))
            except Exception as error:  # noqa: BLE001  (the test reads it below)
                failures.append(error)

        with JiraClient(connection, retry=retry) as client:
            thread = threading.Thread(target=read_fields)
            thread.start()
            deadline = time.monotonic() + 30
            while not any(r["path"].endswith("/field") for r in emu.requests):
                assert time.monotonic() < deadline, "the client never asked for the fields"
                time.sleep(0.02)
            stopped = time.monotonic()
            client.stop_retries()
            thread.join(10)
            elapsed = time.monotonic() - stopped
        fields_requests = [r for r in emu.requests if r["path"].endswith("/field")]
    assert not thread.is_alive()
    assert elapsed < 5
    assert len(failures) == 1
    assert "Stopped the requests to" in str(failures[0])
    assert "their results are not needed" in str(failures[0])
    assert len(fields_requests) == 1

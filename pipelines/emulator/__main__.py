"""Run the emulator out of process: `python -m pipelines.emulator --port 8080 --issues 500`."""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import signal
import sys
import threading

from pipelines.emulator import Emulator
from pipelines.emulator.server import ALL_SCOPES


def parse_scopes(parser: argparse.ArgumentParser, text: str | None) -> frozenset[str]:
    """Return the scopes listed in `--scopes`, or every scope when it is not given."""
    if text is None:
        return ALL_SCOPES
    scopes = frozenset(part.strip() for part in text.split(",") if part.strip())
    unknown = sorted(scopes - ALL_SCOPES)
    if unknown:
        parser.error(
            f"--scopes: unknown scope `{unknown[0]}`; expected some of "
            f"{', '.join(sorted(ALL_SCOPES))}"
        )
    return scopes


def main(argv: list[str] | None = None, prog: str = "python -m pipelines.emulator") -> int:
    """Start the emulator, print its URLs and credentials as one JSON line, serve until killed."""
    parser = argparse.ArgumentParser(prog=prog, description="Serve a Jira emulator on 127.0.0.1.")
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1; 0 picks one")
    parser.add_argument("--issues", type=int, default=50, help="number of generated issues")
    parser.add_argument("--seed", type=int, default=7, help="seed of the generated data")
    parser.add_argument(
        "--flavor",
        choices=("cloud", "dc"),
        default="cloud",
        help="Jira Cloud (gateway, scoped tokens, /rest/api/3) or Data Center (a Personal "
        "Access Token, /rest/api/2)",
    )
    parser.add_argument(
        "--time-zone",
        default="America/Los_Angeles",
        help="profile zone of the calling account (IANA name)",
    )
    parser.add_argument("--latency-ms", type=int, default=0, help="delay per request, in ms")
    parser.add_argument("--samples-dir", default=None, help="folder of recorded payloads")
    parser.add_argument(
        "--rate-limit",
        type=int,
        default=None,
        help="requests allowed per second; more get 429 with Retry-After (default: no limit)",
    )
    parser.add_argument(
        "--replay",
        default=None,
        help="serve this recorded search page (or issue) byte for byte instead of generated data",
    )
    parser.add_argument(
        "--replay-fields", default=None, help="recorded /field catalog to serve with --replay"
    )
    parser.add_argument(
        "--scopes",
        default=None,
        help="comma-separated scopes of the scoped token, to try a token that lacks some "
        f"(default: all of {', '.join(sorted(ALL_SCOPES))})",
    )
    args = parser.parse_args(argv)
    scopes = parse_scopes(parser, args.scopes)
    if args.replay:
        return serve_replay(args.replay, args.replay_fields, args.port)
    emu = Emulator(
        issues=args.issues,
        seed=args.seed,
        flavor=args.flavor,
        time_zone=args.time_zone,
        latency_ms=args.latency_ms,
        samples_dir=args.samples_dir,
        port=args.port,
        rate_limit=args.rate_limit,
    ).start()
    emu.add_token(emu.scoped_token, scopes)
    # The generated issues live until the process ends, so the collector stops walking them.
    # With that and higher thresholds, serving 20,000 issues took 11 CPU-seconds instead of 13.
    gc.collect()
    gc.freeze()
    gc.set_threshold(20_000, 20, 100)
    info = {
        "site_url": emu.site_url,
        "gateway_url": emu.gateway_url,
        "cloud_id": emu.cloud_id,
        "email": emu.email,
        "classic_token": emu.classic_token,
        "scoped_token": emu.scoped_token,
        "pat": emu.pat,
    }
    sys.stdout.write(json.dumps(info) + "\n")
    sys.stdout.flush()
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    with contextlib.suppress(KeyboardInterrupt):
        stopped.wait()
    emu.stop()
    return 0


def serve_replay(page_path: str, fields_path: str | None, port: int) -> int:
    """Replay a recorded page until killed; print the URL as one JSON line."""
    from pathlib import Path

    from pipelines.emulator.replay import ReplayServer, page_from_file

    fields = json.loads(Path(fields_path).read_text()) if fields_path else None
    server = ReplayServer(page_from_file(Path(page_path)), fields, port=port).start()
    sys.stdout.write(json.dumps({"site_url": server.url, "replay": page_path}) + "\n")
    sys.stdout.flush()
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    with contextlib.suppress(KeyboardInterrupt):
        stopped.wait()
    server.stop()
    return 0


serve_forever_from_cli = main

if __name__ == "__main__":
    raise SystemExit(main())

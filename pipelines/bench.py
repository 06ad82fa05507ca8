"""Benchmarks that print figures: fetch strategies against the emulator, and load speed alone.

    python -m pipelines.bench fetch --issues 20000 --latency-ms 100
    python -m pipelines.bench normalize --issues 20000

`fetch` starts the emulator in its own process, then loads it once per strategy, each in a
child process so that its peak memory (VmHWM) is its own. `normalize` records the pages of an
in-process emulator first, then times only normalization and the dlt load of those pages.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import json
import os
import pstats
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pipelines.batches import BATCH_ISSUES, NORMALIZE_ISSUES, gather_pages
from pipelines.limiter import DEFAULT_MAX_IN_FLIGHT, MAX_IN_FLIGHT_CEILING
from pipelines.source import ISSUES_PER_LOAD

STRATEGIES = ("sequential", "parallel")
# The child reads the token from here, so it never shows in a process listing.
TOKEN_VARIABLE = "JIRA_ETL_BENCH_TOKEN"


def peak_memory_mb() -> float:
    """Return this process's peak resident memory (VmHWM) in MiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# Iterations of the loop that `python_speed` times. It takes about 0.1 s on the Xeon machine.
SPEED_LOOP = 2_000_000


def python_speed() -> float:
    """Return the best of three timings of a plain Python loop, in million iterations per second.

    The same code on the same kind of machine ran up to 2x slower on some days. Printed next
    to the figures, this speed shows whether a change or the machine moved them.
    """
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        total = 0
        for number in range(SPEED_LOOP):
            total += number
        best = min(best, time.perf_counter() - started)
    return SPEED_LOOP / best / 1e6


def machine_line() -> str:
    """Describe the CPU, the load average and the Python speed of this machine now."""
    model = "unknown CPU"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                model = line.partition(":")[2].strip()
                break
    load = " ".join(f"{value:.2f}" for value in os.getloadavg())
    return (
        f"machine: {model}, {os.cpu_count()} CPUs, load average {load}, "
        f"plain Python loop {python_speed():.1f} million iterations/s"
    )


def memory_figures() -> dict[str, float]:
    """Return this process's current resident memory in MiB, by kind (`/proc/self/status`).

    `VmRSS` is the total. `RssAnon` is the heap and other private memory. `RssFile` is mostly
    the code of Python, dlt, DuckDB, pyarrow and pandas, mapped from their files.
    """
    figures = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        name, _, rest = line.partition(":")
        if name in ("VmRSS", "RssAnon", "RssFile"):
            figures[name] = int(rest.split()[0]) / 1024
    return figures


class MemorySampler:
    """A thread that samples the resident memory every `interval` seconds and keeps the peaks.

    `step` names what runs now: a dlt step, or `between` for the runner's own work outside
    them (its queries, closing the DuckDB database after a load). `steps` collects one entry
    for each stretch of one step: its name, its start in seconds, and the resident and
    private memory at its start and peak.
    """

    def __init__(self, interval: float = 0.1) -> None:
        self.interval = interval
        self.peaks: dict[str, float] = {}
        self.start = memory_figures()
        self.step = "between"
        self.steps: list[dict[str, Any]] = []
        self._started = time.monotonic()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.is_set():
            figures = memory_figures()
            for name, value in figures.items():
                self.peaks[name] = max(value, self.peaks.get(name, 0.0))
            rss, anon = figures.get("VmRSS", 0.0), figures.get("RssAnon", 0.0)
            if not self.steps or self.steps[-1]["step"] != self.step:
                seconds = time.monotonic() - self._started
                self.steps.append(
                    {"step": self.step, "seconds": seconds, "start_mb": rss, "peak_mb": rss}
                )
                self.steps[-1]["peak_anon_mb"] = anon
            current = self.steps[-1]
            current["peak_mb"] = max(current["peak_mb"], rss)
            current["peak_anon_mb"] = max(current["peak_anon_mb"], anon)
            self._stop.wait(self.interval)

    def label_pipeline_steps(self) -> None:
        """Name dlt's extract, normalize and load steps in `step` while they run."""
        import dlt

        for name in ("extract", "normalize", "load"):
            original = getattr(dlt.Pipeline, name)

            def labelled(
                pipeline: Any, *args: Any, _run: Any = original, _name: str = name, **kwargs: Any
            ) -> Any:
                self.step = _name
                try:
                    return _run(pipeline, *args, **kwargs)
                finally:
                    self.step = "between"

            setattr(dlt.Pipeline, name, labelled)

    def __enter__(self) -> MemorySampler:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join()


def child_env() -> dict[str, str]:
    env = dict(os.environ)
    env["RUNTIME__DLTHUB_TELEMETRY"] = "false"
    return env


def start_emulator(
    issues: int, latency_ms: int, seed: int, flavor: str = "cloud"
) -> tuple[subprocess.Popen[str], dict]:
    """Start `python -m pipelines.emulator` and return the process and its JSON line."""
    command = [sys.executable, "-m", "pipelines.emulator", "--port", "0", "--issues", str(issues)]
    command += ["--latency-ms", str(latency_ms), "--seed", str(seed), "--flavor", flavor]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=child_env())
    assert process.stdout is not None
    line = process.stdout.readline()
    if not line:
        process.kill()
        raise RuntimeError("The emulator exited before printing its URLs; run it alone to see why.")
    return process, json.loads(line)


def run_fetch(args: argparse.Namespace) -> int:
    """Load the emulator once per strategy and print a table of figures and the speed-up."""
    machine = machine_line()
    emulator, info = start_emulator(args.issues, args.latency_ms, args.seed, args.flavor)
    results: dict[str, dict[str, Any]] = {}
    try:
        for strategy in args.strategies.split(","):
            command = [sys.executable, "-m", "pipelines.bench", "load", "--strategy", strategy]
            command += ["--max-in-flight", str(args.max_in_flight)]
            command += ["--issues-per-load", str(args.issues_per_load)]
            if args.custom_fields is not None:
                command += ["--custom-fields", args.custom_fields]
            if args.steps:
                command.append("--steps")
            command += ["--site-url", info["site_url"], "--gateway-url", info["gateway_url"]]
            # Data Center takes a Personal Access Token at the site URL.
            token = info["pat"] if args.flavor == "dc" else info["scoped_token"]
            command += ["--auth", "pat" if args.flavor == "dc" else "bearer"]
            env = child_env() | {TOKEN_VARIABLE: token}
            done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
            if done.returncode != 0:
                sys.stderr.write(done.stderr[-3000:])
                raise RuntimeError(f"The {strategy} load failed (exit {done.returncode}).")
            results[strategy] = json.loads(done.stdout.strip().splitlines()[-1])
    finally:
        emulator.terminate()
        emulator.wait(timeout=30)
    print(
        f"fetch: {args.issues} issues, {args.latency_ms} ms latency, seed {args.seed}, "
        f"{'Data Center' if args.flavor == 'dc' else 'Cloud'}"
    )
    print(machine)
    print(f"{'strategy':<12}{'seconds':>9}{'issues/s':>10}{'requests':>10}{'retries':>9}")
    for strategy, figures in results.items():
        print(
            f"{strategy:<12}{figures['seconds']:>9.1f}{figures['issues_per_second']:>10.0f}"
            f"{figures['requests']:>10}{figures['retries']:>9}"
            f"   peak {figures['peak_mb']:.0f} MiB (at start {figures['start_mb']:.0f}, "
            f"of which library files {figures['start_file_mb']:.0f}; "
            f"private peak {figures['peak_anon_mb']:.0f}), {figures['issues']} issues, "
            f"{figures['changelog_rows']} changelog rows, "
            f"max in flight {figures['max_in_flight_seen']}, "
            f"DuckDB file {figures['duckdb_mb']:.0f} MiB"
        )
    for strategy, figures in results.items():
        for step in figures.get("steps", []):
            print(
                f"  {strategy} {step['seconds']:7.1f} s {step['step']:<9} "
                f"start {step['start_mb']:4.0f} MiB, peak {step['peak_mb']:4.0f} MiB "
                f"(private {step['peak_anon_mb']:4.0f})"
            )
    if "sequential" in results and "parallel" in results:
        ratio = results["sequential"]["seconds"] / results["parallel"]["seconds"]
        print(f"parallel is {ratio:.1f}x faster than sequential")
    if args.json:
        print(json.dumps(results))
    return 0


def run_load(args: argparse.Namespace) -> int:
    """Load the emulator once with one strategy in this process; print figures as JSON."""
    from pipelines.cli import custom_field_list
    from pipelines.runner import RunOptions, run

    settings = {
        "auth": args.auth,
        "token": os.environ[TOKEN_VARIABLE],
        "site_url": args.site_url,
        "gateway_url": args.gateway_url,
        "strategy": args.strategy,
        "max_in_flight": args.max_in_flight,
        "issues_per_load": args.issues_per_load,
        "custom_fields": custom_field_list(args.custom_fields),
    }
    with tempfile.TemporaryDirectory(prefix="jira-bench-") as folder:
        options = RunOptions(
            pipeline_name="jira_bench",
            duckdb_path=str(Path(folder) / "bench.duckdb"),
            pipelines_dir=str(Path(folder) / "pipelines"),
        )
        started = time.monotonic()
        with MemorySampler() as sampler:
            if args.steps:
                sampler.label_pipeline_steps()
            summary = run(options, settings)
        seconds = time.monotonic() - started
        duckdb_mb = Path(options.duckdb_path).stat().st_size / 2**20
    limiter = getattr(summary.reader, "limiter", None)
    figures = {
        "strategy": args.strategy,
        "seconds": seconds,
        "issues": summary.issues_read,
        "issues_per_second": summary.issues_read / seconds if seconds else 0.0,
        "requests": summary.requests,
        "retries": summary.retries,
        "rows": summary.rows.get("issues", 0),
        "changelog_rows": summary.rows.get("issue_changelog", 0),
        "peak_mb": peak_memory_mb(),
        "start_mb": sampler.start.get("VmRSS", 0.0),
        "start_file_mb": sampler.start.get("RssFile", 0.0),
        "peak_anon_mb": sampler.peaks.get("RssAnon", 0.0),
        "duckdb_mb": duckdb_mb,
        "max_in_flight_seen": limiter.stats.max_in_flight_seen if limiter else 1,
    }
    if args.steps:
        figures["steps"] = sampler.steps
    print(json.dumps(figures))
    return 0


def record_pages(
    issues: int, seed: int, custom_fields: list[str] | None = None
) -> tuple[list[list[dict[str, Any]]], list[dict], list[str] | None]:
    """Read every page of an in-process emulator.

    `custom_fields` chooses the custom fields to request, by id or name, as `jira-etl run
    --custom-fields`; None requests every one.

    Returns:
        The pages, the `/field` list, and the ids of the chosen custom fields (None: all).
    """
    from pipelines.client.auth import build_auth
    from pipelines.client.connection import resolve_connection
    from pipelines.client.search import IssueSearch
    from pipelines.client.transport import JiraClient
    from pipelines.emulator import Emulator
    from pipelines.normalize.fields import FieldCatalog, select_custom_fields
    from pipelines.parallel import BulkReader
    from pipelines.source import search_fields
    from pipelines.window import Window

    with Emulator(issues=issues, seed=seed) as emu:
        auth = build_auth("bearer", emu.scoped_token)
        connection = resolve_connection(auth, site_url=emu.site_url, gateway_url=emu.gateway_url)
        with JiraClient(connection) as client:
            fields = client.get(connection.api_path("field"))
            selected = select_custom_fields(fields, custom_fields)
            catalog = FieldCatalog.from_fields(fields, previous=None, selected=selected)
            reader = BulkReader(
                IssueSearch(client), user_jql=None, fields=search_fields(catalog), max_in_flight=8
            )
            pages = list(reader.read(Window(None)))
    return pages, fields, selected


def normalize_batches(pages: list[list[dict[str, Any]]], size: int) -> list[list[dict[str, Any]]]:
    """Join recorded pages into the batches the source normalizes, of at least `size` issues."""
    return [batch for batch in gather_pages(pages, size) if batch is not None]


def recorded_source(
    pages: list[list[dict[str, Any]]],
    fields: list[dict],
    batch_issues: int = BATCH_ISSUES,
    selected: list[str] | None = None,
) -> Any:
    """Build a dlt source with the issue tables of `jira_source`, fed from recorded pages.

    Each page is normalized as one batch, and the tables of `batch_issues` issues reach dlt
    together, as in `jira_source`.
    """
    import dlt

    from pipelines import source
    from pipelines.batches import TableBatches
    from pipelines.normalize.fields import FieldCatalog
    from pipelines.normalize.issues import normalize_issues

    catalog = FieldCatalog.from_fields(fields, previous=None, selected=selected)
    source._prefer_depth_first_extract()
    batch_tables = TableBatches()

    def normalized() -> Iterator[Any]:
        for page in pages:
            yield source.IssueBatch(normalize_issues(page, catalog, flavor="cloud"), catalog, page)

    @dlt.source(name="jira", max_table_nesting=0)
    def jira_recorded() -> list[Any]:
        @dlt.resource(name="jira_issue_batches", selected=False)
        def batches() -> Iterator[Any]:
            yield from batch_tables.combine(normalized(), batch_issues)

        return [batches, *source.issue_resources(batches, batch_tables)]

    return jira_recorded()


def time_normalization(
    pages: list[list[dict[str, Any]]], fields: list[dict], selected: list[str] | None = None
) -> float:
    """Return the seconds `normalize_issues` and the arrow conversion take for `pages`."""
    from pipelines.normalize.arrow import arrow_table
    from pipelines.normalize.fields import FieldCatalog
    from pipelines.normalize.issues import normalize_issues

    catalog = FieldCatalog.from_fields(fields, previous=None, selected=selected)
    started = time.monotonic()
    for page in pages:
        normalized = normalize_issues(page, catalog, flavor="cloud")
        for table, rows in normalized.tables.items():
            if rows:
                arrow_table(table, rows, catalog)
    return time.monotonic() - started


def time_dlt_run(
    parts: list[list[list[dict[str, Any]]]],
    fields: list[dict],
    profiler: cProfile.Profile | None,
    batch_issues: int = BATCH_ISSUES,
    selected: list[str] | None = None,
) -> dict[str, float]:
    """Load `parts` into a new DuckDB file as `jira-etl run` loads its parts, and time the steps.

    Each part, a list of batches of issues, is extracted, normalized and loaded before the
    next, as `jira-etl run --issues-per-load` does. The result has the seconds of each step
    (`extract`, `normalize`, `load`), summed over the parts, and `total`.
    """
    from pipelines.collector import collect_between_steps, fewer_collections
    from pipelines.runner import RunOptions, load_within_memory, make_pipeline

    with tempfile.TemporaryDirectory(prefix="jira-bench-") as folder:
        options = RunOptions(
            pipeline_name="jira_bench_normalize",
            duckdb_path=str(Path(folder) / "bench.duckdb"),
            pipelines_dir=str(Path(folder) / "pipelines"),
        )
        pipeline = make_pipeline(options)
        seconds = {"extract": 0.0, "normalize": 0.0, "load": 0.0}
        if profiler:
            profiler.enable()
        with fewer_collections():
            started = time.monotonic()
            for part in parts:
                step_started = time.monotonic()
                pipeline.extract(recorded_source(part, fields, batch_issues, selected))
                collect_between_steps()
                extracted = time.monotonic()
                pipeline.normalize()
                normalized = time.monotonic()
                load_within_memory(pipeline, options)
                seconds["extract"] += extracted - step_started
                seconds["normalize"] += normalized - extracted
                seconds["load"] += time.monotonic() - normalized
            seconds["total"] = time.monotonic() - started
        if profiler:
            profiler.disable()
    return seconds


def split_into_loads(
    pages: list[list[dict[str, Any]]], issues_per_load: int
) -> list[list[list[dict[str, Any]]]]:
    """Split `pages` into parts of whole pages, each ending once it has `issues_per_load` issues.

    0 or less keeps every page in one part, as `jira-etl run --issues-per-load 0`.
    """
    if issues_per_load <= 0:
        return [pages]
    parts: list[list[list[dict[str, Any]]]] = []
    part: list[list[dict[str, Any]]] = []
    issues = 0
    for page in pages:
        part.append(page)
        issues += len(page)
        if issues >= issues_per_load:
            parts.append(part)
            part, issues = [], 0
    if part:
        parts.append(part)
    return parts


def run_normalize(args: argparse.Namespace) -> int:
    """Time normalization alone, then normalization plus the dlt load, of recorded pages."""
    from pipelines.cli import custom_field_list

    requested = custom_field_list(args.custom_fields)
    pages, fields, selected = record_pages(args.issues, args.seed, requested)
    # A run ends each part at a fetched page, then joins the part's pages into batches.
    parts = [
        normalize_batches(part, args.normalize_issues)
        for part in split_into_loads(pages, args.issues_per_load)
    ]
    # The recorded pages are the benchmark's input, and a run never keeps them all in memory.
    # Frozen, their millions of objects are skipped by the collector, as a run's imports are.
    # A caller's own frozen objects stay frozen afterwards, as `fewer_collections` keeps them.
    gc.collect()
    froze = gc.get_freeze_count() == 0
    gc.freeze()
    try:
        print_normalize_timings(args, pages, parts, fields, selected)
    finally:
        if froze:
            gc.unfreeze()
    return 0


def print_normalize_timings(
    args: argparse.Namespace,
    pages: list[list[dict[str, Any]]],
    parts: list[list[list[dict[str, Any]]]],
    fields: list[dict],
    selected: list[str] | None,
) -> None:
    """Time and print normalization alone and the dlt run of `parts`, `args.repeat` times."""
    batches = [batch for part in parts for batch in part]
    total = sum(len(batch) for batch in batches)
    loads = len(parts)
    print(
        f"normalize: {total} issues recorded from the emulator (seed {args.seed}) in pages of "
        f"up to {max((len(page) for page in pages), default=0)}, normalized in batches of "
        f"{args.normalize_issues} or more, handed to dlt {args.batch_issues} "
        f"at a time, loaded in {loads} {'part' if loads == 1 else 'parts'}, "
        + ("every custom field" if selected is None else f"custom fields {', '.join(selected)}")
    )
    print(machine_line())
    profiler = cProfile.Profile() if args.profile else None
    best = 0.0
    for number in range(1, args.repeat + 1):
        normalize_seconds = time_normalization(batches, fields, selected)
        seconds = time_dlt_run(parts, fields, profiler, args.batch_issues, selected)
        best = max(best, total / seconds["total"])
        label = f"run {number}: " if args.repeat > 1 else ""
        print(
            f"{label}normalize_issues + arrow tables: {normalize_seconds:.1f} s, "
            f"{total / normalize_seconds:,.0f} issues/s"
        )
        steps = ", ".join(
            f"{name} {seconds[name]:.1f} s" for name in ("extract", "normalize", "load")
        )
        print(
            f"{label}dlt extract + normalize + load into DuckDB: {seconds['total']:.1f} s, "
            f"{total / seconds['total']:,.0f} issues/s ({steps})"
        )
    if args.repeat > 1:
        print(f"best of {args.repeat}: {best:,.0f} issues/s through dlt into DuckDB")
    print(f"peak memory of this process: {peak_memory_mb():.0f} MiB (recorded pages included)")
    if profiler:
        stats = pstats.Stats(profiler).sort_stats("cumulative")
        stats.print_stats(args.profile)


def non_negative_int(text: str) -> int:
    """Parse a count of 0 or more, as `jira-etl run --issues-per-load` accepts."""
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"invalid value `{text}`: expected 0 or more")
    return value


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and run one benchmark."""
    parser = argparse.ArgumentParser(prog="python -m pipelines.bench", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    fetch = commands.add_parser("fetch", help="compare fetch strategies end to end")
    fetch.add_argument("--issues", type=int, default=20_000, help="issues the emulator serves")
    fetch.add_argument("--latency-ms", type=int, default=100, help="delay per request, in ms")
    fetch.add_argument("--seed", type=int, default=7, help="seed of the generated data")
    fetch.add_argument("--strategies", default=",".join(STRATEGIES), help="comma-separated")
    fetch.add_argument(
        "--max-in-flight",
        type=int,
        default=DEFAULT_MAX_IN_FLIGHT,
        help=f"requests in flight for `parallel`, from 1 to {MAX_IN_FLIGHT_CEILING} (default: "
        "the default of `jira-etl run`)",
    )
    fetch.add_argument(
        "--issues-per-load",
        type=non_negative_int,
        default=ISSUES_PER_LOAD,
        help="issues per load package (0: one load), as `jira-etl run --issues-per-load`",
    )
    fetch.add_argument(
        "--custom-fields",
        default=None,
        help="load only these custom fields, as `jira-etl run --custom-fields`",
    )
    fetch.add_argument(
        "--flavor",
        choices=("cloud", "dc"),
        default="cloud",
        help="the emulator's flavor: Jira Cloud (a bearer token) or Data Center (a Personal "
        "Access Token)",
    )
    fetch.add_argument("--json", action="store_true", help="also print the figures as JSON")
    fetch.add_argument(
        "--steps",
        action="store_true",
        help="also print the memory at the start and the peak of each dlt step and of the "
        "runner's work between them",
    )
    normalize = commands.add_parser("normalize", help="time normalization and loading alone")
    normalize.add_argument("--issues", type=int, default=20_000, help="issues to record")
    normalize.add_argument("--seed", type=int, default=7, help="seed of the generated data")
    normalize.add_argument(
        "--normalize-issues",
        type=int,
        default=NORMALIZE_ISSUES,
        help="issues normalized together, as the source",
    )
    normalize.add_argument(
        "--batch-issues",
        type=int,
        default=BATCH_ISSUES,
        help="issues whose tables reach dlt together, as the source",
    )
    normalize.add_argument(
        "--issues-per-load",
        type=non_negative_int,
        default=0,
        help="issues per load package, as `jira-etl run --issues-per-load` (default 0: one "
        f"load of all the issues; `jira-etl run` loads {ISSUES_PER_LOAD:,} at a time)",
    )
    normalize.add_argument(
        "--profile", type=int, default=0, help="print this many cProfile lines of the load"
    )
    normalize.add_argument(
        "--custom-fields",
        default=None,
        help="record and load only these custom fields, as `jira-etl run --custom-fields`",
    )
    normalize.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="time this many runs on the same recorded pages, each into a new DuckDB file",
    )
    load = commands.add_parser("load", help="one load in this process (used by `fetch`)")
    load.add_argument("--strategy", choices=STRATEGIES, required=True)
    load.add_argument("--max-in-flight", type=int, default=DEFAULT_MAX_IN_FLIGHT)
    load.add_argument("--site-url", required=True)
    load.add_argument("--gateway-url", required=True)
    load.add_argument("--issues-per-load", type=int, default=ISSUES_PER_LOAD)
    load.add_argument("--custom-fields", default=None)
    load.add_argument("--steps", action="store_true")
    load.add_argument("--auth", choices=("bearer", "pat"), default="bearer")
    args = parser.parse_args(argv)
    handlers = {"fetch": run_fetch, "normalize": run_normalize, "load": run_load}
    return handlers[args.command](args)


if __name__ == "__main__":
    raise SystemExit(main())

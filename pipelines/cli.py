"""The `jira-etl` command line: run, check, status, emulator, demo, sql and report.

Exit status: 0 success, 1 the run failed, 2 invalid usage or settings, 3 another run of the
same pipeline holds the lock.
"""

from __future__ import annotations

import os

# dlt sends anonymous usage telemetry unless configured otherwise, and jira-etl talks only to Jira.
os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")

import logging  # noqa: E402
import re  # noqa: E402
import sys  # noqa: E402
import threading  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import click  # noqa: E402

from pipelines.errors import ConfigError, JiraEtlError, LockedError  # noqa: E402
from pipelines.interrupts import received, stop_on_signals  # noqa: E402
from pipelines.logs import configure_logging, log_format, mask, register_secret  # noqa: E402

EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_LOCKED = 3
# The shell's status of a command stopped by Ctrl-C (128 + SIGINT).
EXIT_INTERRUPTED = 130
INTERRUPTED_MESSAGE = (
    "Interrupted. Loads that finished stay loaded, a load package already written waits for "
    "the next run, and the stored cursor moves only with loaded data."
)

logger = logging.getLogger("jira_etl.cli")
# DuckDB's message for a statement that a signal stopped.
DUCKDB_INTERRUPTED = "Query interrupted"


# The maximum lookback, ten years in minutes. A cursor minus far more minutes falls before
# year 1, which Python's dates cannot hold.
MAX_MINUTES = 10 * 365 * 24 * 60


class _Minutes(click.ParamType):
    """A number of minutes from 0 to `MAX_MINUTES`, written as a plain number."""

    name = "minutes"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> float:
        if isinstance(value, (int, float)):
            number = float(value)
        else:
            try:
                number = float(str(value).strip())
            except ValueError:
                self.fail(f"`{value}` is not a number of minutes; write 5 for five minutes.")
        if not 0 <= number <= MAX_MINUTES:
            self.fail(
                f"`{value}` is not a number of minutes from 0 to {MAX_MINUTES:,} (ten years)."
            )
        return number


MINUTES = _Minutes()


def load_env_file(path: str | None, *, check_names: bool = True) -> None:
    """Read `.env` into the environment without overriding variables already set.

    `check_names` False lets a `JIRA_*` name that no option reads pass, so that `--help` of a
    command still shows the right names.

    Raises:
        click.UsageError: the file has a line that is not `NAME=value`, or a `JIRA_*` name,
            in any case, that no option reads.
    """
    from dotenv.parser import parse_stream

    env_path = Path(path) if path else Path(".env")
    if not env_path.exists():
        if path:
            raise click.UsageError(f"The env file `{env_path}` does not exist.")
        return
    try:
        text = env_path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise click.UsageError(f"Could not read the env file `{env_path}`: {exc}.") from None
    import io

    for binding in parse_stream(io.StringIO(text)):
        if binding.error:
            words = binding.original.string.strip().split("=", 1)[0].split()
            raise _invalid_line(binding.original.line, env_path, words[0] if words else "")
        if binding.key and binding.key.upper().startswith("JIRA_"):
            if not re.fullmatch(_NAME, binding.key):
                # Such as `JIRA_TOKEN:value`: python-dotenv reads the whole line as the name.
                raise _invalid_line(binding.original.line, env_path, binding.key)
            if check_names:
                _check_variable_known(binding.key, binding.original.line, env_path)
        if binding.key and binding.key not in os.environ and binding.value:
            os.environ[binding.key] = binding.value


_NAME = r"[A-Za-z_][A-Za-z0-9_]*"
# Minimum number of characters after a known name that are read as a value pasted without `=`.
_PASTED_VALUE_CHARS = 8


def _invalid_line(line: int, env_path: Path, start: str) -> click.UsageError:
    """Build the error for a line that is not `NAME=value`, naming at most its leading name.

    The line may contain a secret, so the message shows only the name at the start of `start`,
    cut after a known variable, as in `JIRA_TOKEN` of `JIRA_TOKENvalue`.
    """
    found = re.match(_NAME, start)
    named = ""
    if found:
        named = f" starting with `{_name_before_value(found.group(0), _known_variables())}`"
    return click.UsageError(
        f"Invalid line {line} in `{env_path}`{named}: expected NAME=value, with quotes "
        "closed and no spaces around `=`."
    )


def _name_before_value(name: str, known: set[str]) -> str:
    """Cut `name` after the longest variable in `known` it starts with, else after 40 characters.

    A value pasted without `=` becomes part of the name, as in `JIRA_TOKENvalue`. A known name
    followed by fewer than 8 characters is shown whole, because it is more likely a misspelling.
    """
    prefixes = [
        variable
        for variable in known
        if name.startswith(variable) and len(name) - len(variable) >= _PASTED_VALUE_CHARS
    ]
    return max(prefixes, key=len) if prefixes else name[:40]


# Variables that jira-etl reads without an option: the shortest wait between retries (tests set
# it), the folder of the reporting layer's SQL and the token of `python -m pipelines.bench`.
_VARIABLES_WITHOUT_OPTION = ("JIRA_MIN_RETRY_WAIT", "JIRA_SQL_DIR", "JIRA_ETL_BENCH_TOKEN")


def _check_variable_known(name: str, line: int, env_path: Path) -> None:
    """Reject a `JIRA_*` name in `.env` that jira-etl does not read, such as a misspelled one.

    Otherwise a line like `JIRA_DATSET=other` would be ignored, and the run would load into the
    default dataset with exit 0.

    Raises:
        click.UsageError: no option or setting of jira-etl reads `name`.
    """
    known = _known_variables()
    if name in known:
        return
    variable = _name_before_value(name, known)
    if variable != name and variable in known:
        raise click.UsageError(
            f"Unknown setting starting with {variable} on line {line} of `{env_path}`: is the "
            f"`=` after {variable} missing? Write the line as {variable}=value."
        )
    import difflib

    # Environment variables are case-sensitive, so `jira_dataset` is not read either.
    close = difflib.get_close_matches(name.upper(), sorted(known), n=1)
    hint = f" Did you mean {close[0]}?" if close else ""
    raise click.UsageError(
        f"Unknown setting {variable} on line {line} of `{env_path}`: no option of jira-etl reads "
        f"it.{hint} Correct the name, or remove the line."
    )


def _known_variables() -> set[str]:
    """Return the environment variables that the options of every command read."""
    names = set(_VARIABLES_WITHOUT_OPTION)
    pending: list[click.Command] = [cli]
    while pending:
        command = pending.pop()
        if isinstance(command, click.Group):
            pending.extend(command.commands.values())
        for parameter in command.params:
            envvar = getattr(parameter, "envvar", None)
            if isinstance(envvar, str):
                names.add(envvar)
            elif envvar:
                names.update(envvar)
    return names


class _Commands(click.Group):
    """The command group, which reports Ctrl-C outside a run's own error handling too."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:
            # Without this, click prints `Aborted!` and exits 1, as if the command had failed.
            report_errors.fail(INTERRUPTED_MESSAGE, EXIT_INTERRUPTED)
        except click.ClickException as exc:
            # click prints usage errors as text lines, which a JSON log reader cannot parse.
            # Errors in the group's own options come before logging is configured, so they
            # stay text.
            if log_format() != "json":
                raise
            message = exc.format_message()
            if isinstance(exc, click.UsageError) and exc.ctx is not None:
                message += f" See `{exc.ctx.command_path} --help`."
            report_errors.fail(message, exc.exit_code)


@click.group(
    cls=_Commands,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.option(
    "--env-file",
    type=click.Path(dir_okay=False),
    default=None,
    help="Read settings from this file (default: .env in the current folder, if present).",
)
@click.option(
    "--log-level",
    envvar="JIRA_LOG_LEVEL",
    default="INFO",
    show_default=True,
    type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"], case_sensitive=False),
    help="Least severe log level printed on stderr.",
)
@click.option(
    "--log-format",
    envvar="JIRA_LOG_FORMAT",
    default="text",
    show_default=True,
    type=click.Choice(["text", "json"]),
    help="Log lines as text or as JSON objects.",
)
@click.version_option(package_name="jira-etl")
def cli(env_file: str | None, log_level: str, log_format: str) -> None:
    """Load Jira issues into DuckDB or any dlt destination, incrementally.

    Settings come from options, environment variables (JIRA_*), a .env file and dlt's
    config providers, in that order.

    Exit status: 0 success, 1 the run failed, 2 invalid usage or settings, 3 another run of
    the same pipeline holds the lock.
    """
    # A command's --help still runs this group first, and lists the names to correct.
    asking_help = any(word in ("--help", "-h") for word in sys.argv[1:])
    # Configured before `.env` is read, so an invalid `.env` fails in the format that the
    # options or the environment ask for. `.env` may change the format below.
    configure_logging(log_level, log_format)
    load_env_file(env_file, check_names=not asking_help)
    # click read this group's variables before `.env` was loaded.
    log_level = _group_option_from_env_file("log_level", log_level)
    log_format = _group_option_from_env_file("log_format", log_format)
    # dlt logs through its own handler with tracebacks of failed jobs; jira-etl reports each
    # failure as one message, so dlt logs only at DEBUG unless RUNTIME__LOG_LEVEL is set.
    os.environ.setdefault(
        "RUNTIME__LOG_LEVEL", "INFO" if log_level.upper() == "DEBUG" else "CRITICAL"
    )
    configure_logging(log_level, log_format)


def _group_option_from_env_file(name: str, value: str) -> str:
    """Return the value of the group option `name` from its variable when only `.env` set it.

    Raises:
        click.BadParameter: the value in `.env` is not one of the option's choices.
    """
    from click.core import ParameterSource

    ctx = click.get_current_context()
    if ctx.get_parameter_source(name) is not ParameterSource.DEFAULT:
        return value
    option = next(param for param in ctx.command.params if param.name == name)
    variable = option.envvar if isinstance(option.envvar, str) else None
    configured = os.environ.get(variable) if variable else None
    if not configured:
        return value
    return str(option.type_cast_value(ctx, configured))


def connection_options(func: Any) -> Any:
    """Options shared by every command that talks to Jira."""
    options = [
        click.option(
            "--base-url",
            envvar="JIRA_BASE_URL",
            help="API root that /rest/api/... is appended to; overrides the routing below.",
        ),
        click.option(
            "--site-url",
            envvar="JIRA_SITE_URL",
            help="Cloud site (https://SITE.atlassian.net) or Data Center server URL.",
        ),
        click.option(
            "--auth",
            envvar="JIRA_AUTH",
            default="bearer",
            show_default=True,
            type=click.Choice(["bearer", "oauth", "basic", "pat"], case_sensitive=False),
            help="bearer: scoped/OAuth token at the Cloud gateway; oauth: client id + secret "
            "(or a refresh token) exchanged for Bearer tokens; basic: e-mail + API token at the "
            "site; pat: Data Center Personal Access Token.",
        ),
        click.option(
            "--client-id", envvar="JIRA_CLIENT_ID", help="OAuth client id (--auth oauth)."
        ),
        click.option(
            "--client-secret",
            envvar="JIRA_CLIENT_SECRET",
            help="OAuth client secret (prefer JIRA_CLIENT_SECRET).",
        ),
        click.option(
            "--refresh-token",
            envvar="JIRA_REFRESH_TOKEN",
            help="OAuth (3LO) refresh token; seeds --refresh-token-file.",
        ),
        click.option(
            "--refresh-token-file",
            envvar="JIRA_REFRESH_TOKEN_FILE",
            help="File that keeps the newest rotated refresh token (created with mode 0600).",
        ),
        click.option(
            "--token-url",
            envvar="JIRA_TOKEN_URL",
            help="OAuth token endpoint [default: https://auth.atlassian.com/oauth/token].",
        ),
        click.option(
            "--resources-url",
            envvar="JIRA_RESOURCES_URL",
            help="OAuth accessible-resources endpoint, used to find the cloud id.",
        ),
        click.option("--token", envvar="JIRA_TOKEN", help="The token (prefer JIRA_TOKEN)."),
        click.option("--email", envvar="JIRA_EMAIL", help="Account e-mail, for --auth basic."),
        click.option(
            "--cloud-id",
            envvar="JIRA_CLOUD_ID",
            help="Cloud id for the gateway; discovered from --site-url when absent.",
        ),
        click.option(
            "--gateway-url",
            envvar="JIRA_GATEWAY_URL",
            help="Gateway root [default: https://api.atlassian.com]; for proxies and the emulator.",
        ),
        click.option(
            "--timeout",
            envvar="JIRA_TIMEOUT",
            type=click.FloatRange(min=1),
            default=60.0,
            show_default=True,
            help="Timeout of one HTTP request, in seconds.",
        ),
        click.option(
            "--max-retries",
            envvar="JIRA_MAX_RETRIES",
            type=click.IntRange(min=1),
            default=6,
            show_default=True,
            help="Attempts per request on 429, 5xx and connection faults.",
        ),
        click.option(
            "--max-retry-wait",
            envvar="JIRA_MAX_RETRY_WAIT",
            type=click.FloatRange(min=0),
            default=300.0,
            show_default=True,
            help="Longest Retry-After honoured, in seconds; a longer one fails the run.",
        ),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def destination_options(func: Any) -> Any:
    options = [
        click.option(
            "--duckdb-path",
            envvar="JIRA_DUCKDB_PATH",
            default="jira.duckdb",
            show_default=True,
            help="DuckDB file to load into (destination duckdb).",
        ),
        click.option(
            "--dataset",
            envvar="JIRA_DATASET",
            default="jira",
            show_default=True,
            help="Dataset (schema) that contains the tables.",
        ),
        click.option(
            "--destination",
            envvar="JIRA_DESTINATION",
            default="duckdb",
            show_default=True,
            help="dlt destination: duckdb, postgres, motherduck, bigquery, snowflake, "
            "filesystem, ... configured the dlt way.",
        ),
        click.option(
            "--pipeline-name",
            envvar="JIRA_PIPELINE_NAME",
            default=None,
            help="dlt pipeline name, which keeps its own cursor [default: jira_<dataset>].",
        ),
        click.option(
            "--pipelines-dir",
            envvar="JIRA_PIPELINES_DIR",
            default=None,
            help="Folder for dlt's local pipeline state [default: dlt's, ~/.dlt/pipelines, or "
            "/var/dlt/pipelines for root].",
        ),
    ]
    for option in reversed(options):
        func = option(func)
    return func


@cli.command()
@connection_options
@destination_options
@click.option("--jql", envvar="JIRA_JQL", help="Your filter, e.g. 'project in (ABC, DEF)'.")
@click.option(
    "--lookback",
    envvar="JIRA_LOOKBACK",
    type=MINUTES,
    default=5.0,
    show_default=True,
    help="Minutes re-read before the stored cursor, for edits Jira indexed late.",
)
@click.option(
    "--start-date",
    envvar="JIRA_START_DATE",
    help="Load issues updated on or after this date (YYYY-MM-DD, midnight UTC) or instant "
    "(ISO 8601 with an offset, such as 2024-05-01T00:00:00+02:00). The first run stores it, "
    "and later runs neither list nor read issues updated before it.",
)
@click.option(
    "--full-refresh",
    is_flag=True,
    envvar="JIRA_FULL_REFRESH",
    help="Drop the loaded tables and the cursor, then load everything again.",
)
@click.option(
    "--page-size",
    envvar="JIRA_PAGE_SIZE",
    type=click.IntRange(1, 5000),
    default=100,
    show_default=True,
    help="Issues requested per search page; Jira may return fewer.",
)
@click.option(
    "--on-locked",
    envvar="JIRA_ON_LOCKED",
    type=click.Choice(["fail", "wait"]),
    default="fail",
    show_default=True,
    help="When another run of this pipeline is in progress: exit with status 3, or wait.",
)
@click.option(
    "--tables",
    envvar="JIRA_TABLES",
    help="Comma-separated collection and reference tables to load (default: all), e.g. "
    "issue_changelog,issue_comments,worklogs,users.",
)
@click.option(
    "--skip-tables",
    envvar="JIRA_SKIP_TABLES",
    help="Comma-separated collection and reference tables to leave out.",
)
@click.option(
    "--custom-fields",
    envvar="JIRA_CUSTOM_FIELDS",
    help="Comma-separated custom fields to load, by id (customfield_10016) or name (Story "
    "Points); the others get no column and are not requested. Changing the list needs "
    "--full-refresh.  [default: every custom field]",
)
@click.option(
    "--skip-delete-sweep",
    is_flag=True,
    envvar="JIRA_SKIP_DELETE_SWEEP",
    help="Do not list the filter's issue ids to mark deleted issues (saves a few requests).",
)
@click.option(
    "--strategy",
    envvar="JIRA_STRATEGY",
    type=click.Choice(["parallel", "sequential"]),
    default="parallel",
    show_default=True,
    help="parallel: id-only search, then bulk fetches in parallel; sequential: one "
    "full-field search, page after page.",
)
@click.option(
    "--max-in-flight",
    envvar="JIRA_MAX_IN_FLIGHT",
    type=click.IntRange(1, 8),
    default=6,
    show_default=True,
    help="Requests in flight at most with --strategy parallel.",
)
@click.option(
    "--changelog-mode",
    envvar="JIRA_CHANGELOG_MODE",
    type=click.Choice(["bulk", "per_issue"]),
    default=None,
    help="How change histories are read: bulk (the changelog bulk fetch on Cloud; on Data "
    "Center, the histories embedded in the searches that fetch the issues) or per_issue "
    "(each issue's changelog endpoint). Default: per_issue with --strategy sequential, "
    "bulk with --strategy parallel.",
)
@click.option(
    "--issues-per-load",
    envvar="JIRA_ISSUES_PER_LOAD",
    type=click.IntRange(min=0),
    default=None,
    help="Load a large window in parts of about this many issues (whole pages of --page-size "
    "at least), each loaded before the next is read, so memory stays flat; the cursor moves "
    "after the last part. 0: one load per run. [default: 10000, and 0 with --full-refresh]",
)
def run(**options: Any) -> None:
    """Load issues changed since the last run (the main job)."""
    from pipelines.runner import RunOptions
    from pipelines.runner import run as run_pipeline

    register_secret(
        options.get("token"), options.get("client_secret"), options.get("refresh_token")
    )
    run_options = RunOptions(
        pipeline_name=options["pipeline_name"] or f"jira_{options['dataset']}",
        dataset=options["dataset"],
        destination=options["destination"],
        duckdb_path=options["duckdb_path"],
        pipelines_dir=options["pipelines_dir"],
        full_refresh=options["full_refresh"],
        on_locked=options["on_locked"],
    )
    source_settings = source_settings_from(options)
    _leave_defaults_to_dlt(click.get_current_context(), source_settings)
    _keep_given_route(click.get_current_context(), source_settings)
    if options["destination"] == "duckdb":
        _check_duckdb_path_source(click.get_current_context(), options["duckdb_path"])
    stop_on_signals()
    with report_errors():
        summary = run_pipeline(run_options, source_settings)
    print_summary(summary)


def _given(ctx: click.Context, name: str) -> bool:
    """Return True when option `name` was given or set by its variable, not left at its default."""
    from click.core import ParameterSource

    return ctx.get_parameter_source(name) not in (ParameterSource.DEFAULT, None)


# Options of `run` with a default, and the `jira_source` argument each one sets. When such an
# option is neither given nor set by its variable, its setting is left to dlt's providers
# (`[sources.jira]` in .dlt/config.toml, SOURCES__JIRA__*), and then to the same default.
_DEFAULTED_SOURCE_OPTIONS = {
    "auth": "auth",
    "lookback": "lookback_minutes",
    "page_size": "page_size",
    "timeout": "timeout_seconds",
    "max_retries": "max_retries",
    "max_retry_wait": "max_retry_wait_seconds",
    "skip_delete_sweep": "delete_sweep",
    "strategy": "strategy",
    "max_in_flight": "max_in_flight",
}


def _leave_defaults_to_dlt(ctx: click.Context, settings: dict[str, Any]) -> None:
    """Set to None each source setting whose option has only its default value.

    Settings come from options, variables, `.env` and then dlt's providers, so an option's
    default must not hide a value configured the dlt way.
    """
    for option, setting in _DEFAULTED_SOURCE_OPTIONS.items():
        if not _given(ctx, option):
            settings[setting] = None


# The settings that choose where requests and the token go: `base_url` wins over the others.
_ROUTE_SETTINGS = ("base_url", "site_url", "cloud_id")


def _keep_given_route(ctx: click.Context, settings: dict[str, Any]) -> None:
    """Keep dlt's providers from adding a URL or cloud id to the ones the options give.

    A `base_url` or `cloud_id` left in `[sources.jira]` by an older setup would otherwise win
    over the --site-url of this command, and requests with the token would go elsewhere. An
    empty string counts as not set when the connection is resolved, and dlt does not replace it.
    """
    if not any(_given(ctx, name) for name in _ROUTE_SETTINGS):
        return
    for name in _ROUTE_SETTINGS:
        if settings.get(name) is None:
            settings[name] = ""


def _check_duckdb_path_source(ctx: click.Context, duckdb_path: str) -> None:
    """Reject a DuckDB file set the dlt way while --duckdb-path has only its default.

    jira-etl opens the file named by --duckdb-path, so a file configured in
    `destination.duckdb.credentials` would be ignored and the run would load elsewhere.

    Raises:
        click.UsageError: the dlt setting names a file and --duckdb-path was not given.
    """
    if _given(ctx, "duckdb_path"):
        return
    import dlt

    from pipelines.destinations.duckdb_config import CREDENTIALS_KEY, CREDENTIALS_VARIABLE

    configured: Any = dlt.config.get(CREDENTIALS_KEY)
    if not isinstance(configured, str) or not configured.strip():
        return
    raise click.UsageError(
        f"{CREDENTIALS_VARIABLE} ({CREDENTIALS_KEY}) sets the DuckDB file `{mask(configured)}`, "
        f"but jira-etl loads into the file named by --duckdb-path or JIRA_DUCKDB_PATH, "
        f"`{duckdb_path}` by default. Set JIRA_DUCKDB_PATH to the file to load into, and "
        f"remove {CREDENTIALS_VARIABLE}."
    )


# The connection settings `check` reads, with the type dlt converts each configured value to.
_CHECK_SETTING_TYPES: dict[str, type] = {
    "token": str,
    "auth": str,
    "email": str,
    "client_id": str,
    "client_secret": str,
    "refresh_token": str,
    "refresh_token_file": str,
    "token_url": str,
    "resources_url": str,
    "base_url": str,
    "site_url": str,
    "cloud_id": str,
    "gateway_url": str,
    "jql": str,
    "timeout_seconds": float,
    "max_retries": int,
}


def fill_check_settings_from_dlt(ctx: click.Context, settings: dict[str, Any]) -> None:
    """Fill the connection settings that no option sets from `[sources.jira]` the dlt way.

    `run` hands such settings to the dlt source, which reads them from dlt's providers
    (SOURCES__JIRA__* variables, .dlt/config.toml and .dlt/secrets.toml), so `check` reads the
    same keys and verifies the connection that `run` would use. Secrets found are masked.
    """
    import dlt

    _leave_defaults_to_dlt(ctx, settings)
    _keep_given_route(ctx, settings)
    for key, kind in _CHECK_SETTING_TYPES.items():
        if settings.get(key) is not None:
            continue
        configured: Any = dlt.config.get(f"sources.jira.{key}", kind)
        if configured is not None:
            settings[key] = configured
    register_secret(settings.get("token"), settings.get("client_secret"))
    register_secret(settings.get("refresh_token"))
    # The defaults of the options that dlt's providers did not set.
    for option, setting in _DEFAULTED_SOURCE_OPTIONS.items():
        if setting in _CHECK_SETTING_TYPES and settings.get(setting) is None:
            settings[setting] = ctx.params.get(option)


def source_settings_from(options: dict[str, Any]) -> dict[str, Any]:
    """Map CLI options to `jira_source` arguments; None leaves a setting to dlt's providers."""
    return {
        "token": options.get("token"),
        "auth": options.get("auth"),
        "email": options.get("email"),
        "client_id": options.get("client_id"),
        "client_secret": options.get("client_secret"),
        "refresh_token": options.get("refresh_token"),
        "refresh_token_file": options.get("refresh_token_file"),
        "token_url": options.get("token_url"),
        "resources_url": options.get("resources_url"),
        "base_url": options.get("base_url"),
        "site_url": options.get("site_url"),
        "cloud_id": options.get("cloud_id"),
        "gateway_url": options.get("gateway_url"),
        "jql": options.get("jql"),
        "lookback_minutes": options.get("lookback"),
        "start_date": options.get("start_date"),
        "page_size": options.get("page_size"),
        "timeout_seconds": options.get("timeout"),
        "max_retries": options.get("max_retries"),
        "max_retry_wait_seconds": options.get("max_retry_wait"),
        "min_retry_wait_seconds": _float_env("JIRA_MIN_RETRY_WAIT"),
        "tables": selected_tables(options.get("tables"), options.get("skip_tables")),
        "delete_sweep": not options.get("skip_delete_sweep"),
        "strategy": options.get("strategy"),
        "max_in_flight": options.get("max_in_flight"),
        "changelog_mode": options.get("changelog_mode"),
        "issues_per_load": options.get("issues_per_load"),
        "custom_fields": custom_field_list(options.get("custom_fields")),
    }


def custom_field_list(value: str | None) -> list[str] | None:
    """Split --custom-fields at commas; None (every custom field) when not given.

    Raises:
        click.BadParameter: the option is given but names no field.
    """
    if value is None:
        return None
    entries = [entry.strip() for entry in value.split(",") if entry.strip()]
    if not entries:
        raise click.BadParameter(
            "it names no field; give ids or names separated by commas, or leave it out to "
            "load every custom field.",
            param_hint="--custom-fields",
        )
    return entries


def selected_tables(tables: str | None, skip: str | None) -> list[str] | None:
    """Resolve --tables / --skip-tables to the list the source takes (None: all).

    Raises:
        click.BadParameter: a name is not a collection or reference table.
    """
    from pipelines.source_collections import COLLECTION_TABLES, REFERENCE_TABLES

    known = [*COLLECTION_TABLES, *REFERENCE_TABLES, "sprints"]
    if not tables and not skip:
        return None

    def parse(value: str | None, option: str) -> list[str]:
        names = [name.strip() for name in (value or "").split(",") if name.strip()]
        unknown = [name for name in names if name not in known]
        if unknown:
            raise click.BadParameter(
                f"unknown table(s) {', '.join(unknown)}; choose from {', '.join(known)}.",
                param_hint=option,
            )
        return names

    chosen = parse(tables, "--tables") if tables else list(known)
    skipped = set(parse(skip, "--skip-tables"))
    return [name for name in chosen if name not in skipped]


def _float_env(name: str) -> float | None:
    value = os.environ.get(name)
    if not value:
        return None
    try:
        return float(value)
    except ValueError:
        raise click.UsageError(f"Invalid {name} `{value}`: expected a number of seconds.") from None


def failure_message(exc: JiraEtlError) -> str:
    """Return the error followed by what it left: loaded parts, a pending package, the cursor."""
    text = str(exc).strip()
    if text and not text.endswith((".", "!", "?")):
        text += "."
    if getattr(exc, "outcome_stated", False):
        # The message itself states what was loaded and where the cursor is.
        return text
    parts = int(getattr(exc, "loaded_parts", 0) or 0)
    finished_pending = getattr(exc, "finished_pending", False)
    after: list[str] = []
    if finished_pending:
        after.append(
            "The run first loaded the load packages a previous run had left pending, and the "
            "stored cursor moved with them."
        )
    moved = "did not move further" if finished_pending else "did not move"
    if parts and getattr(exc, "full_refresh", False):
        after.append(
            f"The full refresh dropped the old tables and loaded only its first {parts} "
            "part(s); the next run loads everything again."
        )
    elif parts:
        after.append(
            f"The first {parts} part(s) of this run were loaded, one row per issue; the cursor "
            f"{moved}, so the next run reads the same window again."
        )
    if getattr(exc, "pending_load", False):
        after.append(
            "The fetched data waits in a pending load package; the next run loads it first, "
            "and the stored cursor moves only with it."
        )
    elif not parts:
        loaded = "Nothing else was loaded" if finished_pending else "Nothing was loaded"
        after.append(f"{loaded} and the cursor {moved}.")
    return " ".join([text, *after])


class report_errors:  # noqa: N801  (a context manager used like a function)
    """Turn jira-etl errors into one message on stderr and the documented exit status."""

    def __enter__(self) -> None:
        return None

    def __exit__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> None:
        if exc is None:
            return None
        # DuckDB stops a statement with "Query interrupted" when SIGINT or SIGTERM arrives,
        # and jira-etl never interrupts a statement itself.
        interrupted = getattr(exc, "interrupted", False) or DUCKDB_INTERRUPTED in str(exc)
        if received() and not interrupted and not isinstance(exc, KeyboardInterrupt):
            # The signal's own exception may have been dropped where it arrived, and the run
            # then failed on what that left half done, such as a module half imported.
            self.fail(INTERRUPTED_MESSAGE, EXIT_INTERRUPTED)
        if isinstance(exc, LockedError):
            self.fail(str(exc), EXIT_LOCKED)
        if isinstance(exc, ConfigError):
            self.fail(str(exc), EXIT_USAGE)
        if isinstance(exc, JiraEtlError):
            status = EXIT_INTERRUPTED if interrupted else EXIT_FAILED
            self.fail(failure_message(exc), status)
        if isinstance(exc, KeyboardInterrupt):
            self.fail(INTERRUPTED_MESSAGE, EXIT_INTERRUPTED)
        return None

    @staticmethod
    def fail(message: str, status: int) -> None:
        """Print one error (a JSON log line with --log-format json) and exit with `status`."""
        text = mask(message)
        if log_format() == "json":
            logger.error(text, extra={"event": "run_failed", "exit_status": status})
        else:
            click.echo(f"Error: {text}", err=True)
        if status == EXIT_INTERRUPTED and _fetches_running():
            # Python joins the fetch threads before it exits, and each waits for its request in
            # flight (up to --timeout). The interrupted run has stored what it keeps, so it
            # exits without waiting.
            logging.shutdown()
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(status)
        sys.exit(status)


def _fetches_running() -> bool:
    """Return True when a bulk fetch thread of the parallel strategy is still running."""
    return any(
        thread.name.startswith("jira-fetch") and thread.is_alive()
        for thread in threading.enumerate()
    )


def print_summary(summary: Any) -> None:
    """Print the closing lines of a run: rows per table, requests, the cursor reached."""
    logger.info(
        "Run of pipeline %s finished: %d issues read, cursor %s",
        summary.pipeline_name,
        summary.issues_read,
        summary.cursor.isoformat() if summary.cursor else "none",
        extra={
            "event": "run_finished",
            "pipeline": summary.pipeline_name,
            "rows": dict(summary.rows),
            "summary": {
                "issues_read": summary.issues_read,
                "requests": summary.requests,
                "retries": summary.retries,
                "duration_seconds": round(summary.duration_seconds, 3),
                "cursor": summary.cursor.isoformat() if summary.cursor else None,
                "issues_new": getattr(summary, "issues_new", 0),
                "issues_updated": getattr(summary, "issues_updated", 0),
                "deleted_marked": getattr(summary, "deleted_marked", 0),
                "deleted_checked": getattr(summary, "deleted_checked", False),
                "deleted_unchecked_reason": getattr(summary, "deleted_unchecked_reason", None),
                "skipped": dict(getattr(summary, "skipped", {})),
                "caught_up": getattr(summary, "caught_up", 0),
                "histories_reread": getattr(summary, "histories_reread", 0),
                "not_loaded": getattr(summary, "not_loaded", 0),
            },
        },
    )
    click.echo(
        f"Loaded pipeline {summary.pipeline_name} into {summary.destination} dataset "
        f"{summary.dataset} in {summary.duration_seconds:.1f} s."
    )
    window = summary.window_lower.isoformat() if summary.window_lower else "the beginning"
    click.echo(f"  issues read: {summary.issues_read} (updated since {window})")
    click.echo(
        f"  issues new: {getattr(summary, 'issues_new', 0)}, "
        f"updated: {getattr(summary, 'issues_updated', 0)}"
    )
    caught_up = getattr(summary, "caught_up", 0)
    if caught_up:
        click.echo(
            f"  of which read by id: {caught_up} that the last sweep listed and the tables "
            "lacked or may hold stale, with `updated` before the window"
        )
    histories_reread = getattr(summary, "histories_reread", 0)
    if histories_reread:
        click.echo(
            f"  of which read by id: {histories_reread} whose histories an earlier run got "
            "only in part"
        )
    if not summary.issues_read:
        click.echo("  No issue matched the search in this window; nothing changed.")
    click.echo("  rows per table now:")
    for table, count in sorted(summary.rows.items()):
        click.echo(f"    {table}: {count}")
    skipped = getattr(summary, "skipped", {})
    if skipped:
        click.echo("  tables not loaded in full:")
        for table, reason in sorted(skipped.items()):
            click.echo(f"    {table}: {reason}")
    marked = getattr(summary, "deleted_marked", 0)
    unmarked = getattr(summary, "deleted_unmarked", 0)
    unchecked_reason = getattr(summary, "deleted_unchecked_reason", None)
    if unchecked_reason is not None:
        # A sweep that failed or was doubted marks nothing, which must not read as a clean check.
        click.echo(f"  deleted issues: not checked in this run ({unchecked_reason})")
    elif getattr(summary, "deleted_checked", True):
        click.echo(f"  deleted issues: {marked} marked, {unmarked} present again")
    else:
        click.echo("  deleted issues: not checked (--skip-delete-sweep)")
    not_loaded = getattr(summary, "not_loaded", 0)
    if not_loaded:
        click.echo(
            f"  issues the filter matches that the tables lack: {not_loaded}, with `updated` "
            "before the cursor; the next run reads them by id"
        )
    click.echo(f"  requests: {summary.requests}, retries: {summary.retries}")
    cursor = summary.cursor.isoformat() if summary.cursor else "none yet"
    click.echo(f"  cursor (largest updated loaded, at most the run's start): {cursor}")


def main() -> None:
    """Console entry point."""
    from pipelines.commands import register_commands

    register_commands(cli)
    show_environment_variables(cli)
    cli(prog_name="jira-etl")


def show_environment_variables(command: click.Command) -> None:
    """List each option's environment variable in `--help`, for schedulers and .env files."""
    for param in command.params:
        if isinstance(param, click.Option) and param.envvar:
            param.show_envvar = True
    if isinstance(command, click.Group):
        for sub_command in command.commands.values():
            show_environment_variables(sub_command)


if __name__ == "__main__":
    main()

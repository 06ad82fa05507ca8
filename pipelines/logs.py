"""Logging for the CLI: text or JSON lines on stderr, with secrets masked as a last guard."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime

_SECRETS: set[str] = set()
_FORMAT = {"name": "text"}


def log_format() -> str:
    """Return the configured log format, `text` or `json`."""
    return _FORMAT["name"]


def register_secret(*values: str | None) -> None:
    """Mask these strings in every log record from now on (tokens, Basic credentials)."""
    for value in values:
        if value and len(value) >= 4:
            _SECRETS.add(value)


def mask(text: str) -> str:
    for secret in _SECRETS:
        if secret in text:
            text = text.replace(secret, "***")
    return text


class _MaskingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if _SECRETS:
            record.msg = mask(record.getMessage())
            record.args = None
            # A formatter prints exc_text as it is when it is set, so the traceback is
            # rendered here once, masked.
            if record.exc_info and not record.exc_text:
                record.exc_text = logging.Formatter().formatException(record.exc_info)
            if record.exc_text:
                record.exc_text = mask(record.exc_text)
            if record.stack_info:
                record.stack_info = mask(record.stack_info)
        return True


class _OneLineDltErrors(logging.Filter):
    """Put the error of a dlt record on its line instead of a traceback.

    dlt logs a failed load job with its traceback before jira-etl reports the failure, and a
    user needs only the database's reason. At DEBUG the traceback stays.
    """

    def __init__(self, keep_tracebacks: bool) -> None:
        super().__init__()
        self.keep_tracebacks = keep_tracebacks

    def filter(self, record: logging.LogRecord) -> bool:
        if self.keep_tracebacks or not record.exc_info or not record.name.startswith("dlt"):
            return True
        error = record.exc_info[1]
        if error is not None:
            reason = " ".join(str(error).split())
            record.msg = f"{record.getMessage()}: {type(error).__name__}: {reason}"
            record.args = None
        record.exc_info = None
        record.exc_text = None
        return True


class _JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key in ("event", "pipeline", "table", "rows", "exit_status", "summary"):
            if hasattr(record, key):
                entry[key] = getattr(record, key)
        return json.dumps(entry, default=str)


class _KeptFormatHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """A stderr handler whose format stays the one it was created with.

    When a pipeline starts, dlt takes the first handler of its logger and gives it dlt's own
    format. dlt's lines would then break `--log-format json` and differ from jira-etl's.
    """

    def setFormatter(self, fmt: logging.Formatter | None) -> None:  # noqa: N802 (logging API)
        if self.formatter is None:
            super().setFormatter(fmt)


def configure_logging(level: str = "INFO", fmt: str = "text") -> None:
    """Send jira-etl's and dlt's logs to stderr in one format."""
    _FORMAT["name"] = fmt
    numeric = getattr(logging, level.upper(), logging.INFO)
    handler = _KeptFormatHandler(sys.stderr)
    handler.addFilter(_OneLineDltErrors(keep_tracebacks=numeric <= logging.DEBUG))
    handler.addFilter(_MaskingFilter())
    if fmt == "json":
        handler.setFormatter(_JsonFormatter())
    else:
        handler.setFormatter(
            logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s", "%H:%M:%S")
        )
    root = logging.getLogger()
    for existing in list(root.handlers):
        root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(logging.WARNING)
    logging.getLogger("jira_etl").setLevel(numeric)
    # httpx logs every request with the full URL at INFO; jira-etl logs a cleaned line instead.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    # dlt gives its logger a handler of its own when a pipeline starts and stops it from
    # propagating, so the filters go on the logger too: they then apply to every record it
    # logs, whichever handler prints it.
    dlt_logger = logging.getLogger("dlt")
    dlt_logger.setLevel(max(numeric, logging.WARNING))
    for previous in [
        f for f in dlt_logger.filters if isinstance(f, _OneLineDltErrors | _MaskingFilter)
    ]:
        dlt_logger.removeFilter(previous)
    dlt_logger.addFilter(_OneLineDltErrors(keep_tracebacks=numeric <= logging.DEBUG))
    dlt_logger.addFilter(_MaskingFilter())
    # dlt reuses the first handler of its logger, so it prints through this one.
    for existing in list(dlt_logger.handlers):
        dlt_logger.removeHandler(existing)
    dlt_logger.addHandler(handler)
    dlt_logger.propagate = False

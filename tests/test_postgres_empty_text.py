"""Empty text stays empty text on PostgreSQL, apart from null."""

from __future__ import annotations

import datetime as dt
import uuid

import psycopg2
import pytest

from pipelines.emulator import Emulator
from tests.helpers import emulator_run_args, run_cli

START = dt.datetime(2026, 6, 1, 8, 0, 1, tzinfo=dt.UTC)
POSTGRES_DSN = "postgresql://postgres:trust-auth-ignores-this@127.0.0.1:5432/test"


@pytest.fixture
def pg_schema():
    name = f"jira_test_{uuid.uuid4().hex[:10]}"
    yield name
    with psycopg2.connect(POSTGRES_DSN) as connection, connection.cursor() as cursor:
        cursor.execute(f'drop schema if exists "{name}" cascade')
        cursor.execute(f'drop schema if exists "{name}_staging" cascade')


def pg_rows(schema: str, sql: str) -> list[tuple]:
    with psycopg2.connect(POSTGRES_DSN) as connection, connection.cursor() as cursor:
        cursor.execute(f'set search_path to "{schema}"')
        cursor.execute(sql)
        return cursor.fetchall()


def test_postgres_keeps_empty_summary(tmp_path, pg_schema) -> None:
    with Emulator(issues=6, seed=5, start=START) as emu:
        emptied = emu.edit_issue("ABC-1", summary="")
        env = {"JIRA_TOKEN": emu.scoped_token, "DESTINATION__POSTGRES__CREDENTIALS": POSTGRES_DSN}
        args = emulator_run_args(
            emu,
            tmp_path / "unused.duckdb",
            tmp_path / "pipelines",
            "--destination",
            "postgres",
            "--dataset",
            pg_schema,
        )
        result = run_cli(args, env=env)
    assert result.exit_code == 0, result.output

    summaries = pg_rows(pg_schema, f"select summary from issues where id = {emptied['id']}")
    assert summaries == [("",)]
    changes = pg_rows(
        pg_schema,
        "select to_string from issue_changelog "
        f"where issue_id = {emptied['id']} and field = 'summary'",
    )
    assert ("",) in changes

"""Jira instants and dates: offsets without colons, UTC conversion, rejected garbage."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from pipelines.normalize.timestamps import format_utc, parse_date, parse_instant


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Expected UTC instants worked out by hand from each offset.
        ("2024-01-02T03:04:05.678-0800", datetime(2024, 1, 2, 11, 4, 5, 678000, tzinfo=UTC)),
        ("2024-07-26T16:22:23.916+0530", datetime(2024, 7, 26, 10, 52, 23, 916000, tzinfo=UTC)),
        ("2020-06-12T08:13:13.360+0800", datetime(2020, 6, 12, 0, 13, 13, 360000, tzinfo=UTC)),
        ("2024-01-01T01:30:00+05:30", datetime(2023, 12, 31, 20, 0, 0, tzinfo=UTC)),
        ("2019-05-23T14:02:10.170Z", datetime(2019, 5, 23, 14, 2, 10, 170000, tzinfo=UTC)),
        ("2024-01-02T03:04:05-0800", datetime(2024, 1, 2, 11, 4, 5, tzinfo=UTC)),
        ("2022-12-31T23:30:00.000-0800", datetime(2023, 1, 1, 7, 30, tzinfo=UTC)),
    ],
)
def test_parse_instant_converts_to_utc(text: str, expected: datetime) -> None:
    parsed = parse_instant(text)
    assert parsed == expected
    assert parsed.utcoffset() == timedelta(0)


def test_parse_instant_offsets_compare_as_instants() -> None:
    # 16:22 in India and 10:52 in London are the same instant; as strings they differ.
    india = parse_instant("2024-07-26T16:22:23.916+0530")
    utc = parse_instant("2024-07-26T10:52:23.916+0000")
    assert india == utc


@pytest.mark.parametrize(
    "garbage",
    ["yesterday", "", "2024-13-01T00:00:00Z", "2024-01-02T03:04:05", "2024-01-02", 12345, None],
)
def test_parse_instant_rejects_garbage(garbage: object) -> None:
    with pytest.raises(ValueError):
        parse_instant(garbage)  # type: ignore[arg-type]


def test_parse_date_reads_jira_dates() -> None:
    assert parse_date("2024-07-31") == date(2024, 7, 31)


@pytest.mark.parametrize("garbage", ["31/07/2024", "2024-02-30", "", 20240731])
def test_parse_date_rejects_garbage(garbage: object) -> None:
    with pytest.raises(ValueError):
        parse_date(garbage)  # type: ignore[arg-type]


def test_format_utc_writes_z_suffix() -> None:
    moment = datetime(2024, 1, 2, 3, 4, 5, 678000, tzinfo=timezone(timedelta(hours=-8)))
    assert format_utc(moment) == "2024-01-02T11:04:05.678000Z"
    assert format_utc(datetime(2024, 1, 2, 11, 4, 5, tzinfo=UTC)) == "2024-01-02T11:04:05Z"


def test_format_utc_rejects_naive_datetime() -> None:
    with pytest.raises(ValueError):
        format_utc(datetime(2024, 1, 2, 3, 4, 5))


def test_format_utc_round_trips_parse_instant() -> None:
    assert (
        format_utc(parse_instant("2024-01-02T03:04:05.678-0800")) == "2024-01-02T11:04:05.678000Z"
    )

"""URLs printed in messages keep their hosts readable and their credentials out."""

from __future__ import annotations

import pytest

from pipelines.client.urls import clean_url, host_of


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("http://[::1]:8080/rest/api/3/myself", "http://[::1]:8080/rest/api/3/myself"),
        ("https://[2001:db8::7]/jira", "https://[2001:db8::7]/jira"),
        (
            "https://user:pw@jira.example.com:8443/x?token=abc&a=1",
            "https://jira.example.com:8443/x?token=***&a=1",
        ),
    ],
)
def test_clean_url_hosts(url: str, shown: str) -> None:
    assert clean_url(url) == shown


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("http://[::1]:8080/rest", "[::1]:8080"),
        ("https://[2001:db8::7]/jira", "[2001:db8::7]"),
        ("https://jira.example.com/", "jira.example.com"),
        ("https://jira.example.com:8443/", "jira.example.com:8443"),
    ],
)
def test_host_of_brackets_ipv6(url: str, shown: str) -> None:
    assert host_of(url) == shown


def test_clean_url_keeps_unreadable_port_as_written() -> None:
    assert clean_url("http://user:pw@fd00::2:9/rest") == "http://fd00::2:9/rest"

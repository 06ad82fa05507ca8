"""Jira's own message and the advice after it read as separate sentences."""

from __future__ import annotations

import httpx

from pipelines.client.auth import JiraAuth
from pipelines.client.connection import resolve_connection
from pipelines.client.errors import translate_error

# The 410 message that Jira Cloud sends for the removed search. It ends with a URL.
REMOVED = (
    "The requested API has been removed. Please migrate to the /rest/api/3/search/jql API. "
    "A full migration guideline is available at "
    "https://developer.atlassian.com/changelog/#CHANGE-2046"
)


def removed_search_message(auth: JiraAuth, site_url: str, path: str) -> str:
    connection = resolve_connection(auth, site_url=site_url)
    url = f"{site_url}{path}"
    response = httpx.Response(
        410, json={"errorMessages": [REMOVED], "errors": {}}, request=httpx.Request("GET", url)
    )
    return str(translate_error(response, url, connection))


def test_pat_removed_search_ends_sentence() -> None:
    message = removed_search_message(
        JiraAuth("pat", token="pat-token-value"), "https://acme.atlassian.net", "/rest/api/2/search"
    )

    assert "#CHANGE-2046. --auth pat reads Jira Data Center" in message


def test_basic_removed_search_ends_sentence() -> None:
    message = removed_search_message(
        JiraAuth("basic", token="api-token-value", email="bot@example.com"),
        "https://acme.atlassian.net",
        "/rest/api/3/search",
    )

    assert "#CHANGE-2046. Upgrade jira-etl" in message


def test_full_stop_not_doubled() -> None:
    auth = JiraAuth("basic", token="api-token-value", email="bot@example.com")
    connection = resolve_connection(auth, site_url="https://acme.atlassian.net")
    url = "https://acme.atlassian.net/rest/api/3/search/jql"
    response = httpx.Response(
        400,
        json={"errorMessages": ["Error in the JQL Query: Expecting ')'."], "errors": {}},
        request=httpx.Request("POST", url),
    )

    message = str(translate_error(response, url, connection))

    assert "Expecting ')'. If this names your JQL" in message
    assert ".." not in message

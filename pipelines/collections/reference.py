"""Reference lists: users, projects, workflow values, versions, components and fields.

Cloud pages projects with `/project/search` and users with `/users/search`; Data Center lists
projects with `/project` and finds users with `/user/search?username=.`, which matches every
user name.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pipelines.client.transport import JiraClient
from pipelines.collections.paging import offset_pages
from pipelines.errors import PayloadError

USER_PAGE_SIZE = 1000
PROJECT_PAGE_SIZE = 50
USER_SCOPE = "read:jira-user"


def read_list(client: JiraClient, endpoint: str) -> list[dict[str, Any]]:
    """GET an endpoint that returns a bare list, such as `status`, `priority` or `field`."""
    path = client.connection.api_path(endpoint)
    found = client.get(path)
    if not isinstance(found, list):
        raise PayloadError(f"{path} returned a {type(found).__name__}, expected a list.")
    return found


def read_users(client: JiraClient) -> Iterator[dict[str, Any]]:
    """Yield every user the caller may see, apps and inactive users included."""
    if client.connection.flavor == "cloud":
        path, params = client.connection.api_path("users/search"), None
    else:
        path = client.connection.api_path("user/search")
        params = {"username": ".", "includeInactive": "true"}
    for page in offset_pages(client, path, None, params=params, page_size=USER_PAGE_SIZE):
        yield from page


def read_projects(client: JiraClient) -> Iterator[dict[str, Any]]:
    """Yield every project the caller may browse."""
    if client.connection.flavor == "cloud":
        path = client.connection.api_path("project/search")
        for page in offset_pages(client, path, "values", page_size=PROJECT_PAGE_SIZE):
            yield from page
    else:
        yield from read_list(client, "project")


def read_project_versions(client: JiraClient, project_id: int) -> list[dict[str, Any]]:
    return read_list(client, f"project/{project_id}/versions")


def read_project_components(client: JiraClient, project_id: int) -> list[dict[str, Any]]:
    return read_list(client, f"project/{project_id}/components")

"""Reference lists: users, projects, workflow values, versions, components and fields.

Cloud pages projects with `/project/search` and users with `/users/search`; Data Center lists
projects with `/project` and finds users with `/user/search?username=.`, which matches every
user name.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pipelines.client.connection import Connection
from pipelines.client.transport import JiraClient
from pipelines.collections.paging import offset_pages
from pipelines.errors import PayloadError

USER_PAGE_SIZE = 1000
PROJECT_PAGE_SIZE = 50
USER_SCOPE = "read:jira-user"

# The endpoint each reference table is read from, relative to the REST API root, on Cloud and
# on Data Center. `{project_id}` is the id of the project whose values are listed.
TABLE_ENDPOINTS: dict[str, tuple[str, str]] = {
    "users": ("users/search", "user/search"),
    "projects": ("project/search", "project"),
    "statuses": ("status", "status"),
    "priorities": ("priority", "priority"),
    "issue_types": ("issuetype", "issuetype"),
    "resolutions": ("resolution", "resolution"),
    "versions": ("project/{project_id}/versions", "project/{project_id}/versions"),
    "components": ("project/{project_id}/components", "project/{project_id}/components"),
    "fields": ("field", "field"),
}


def table_endpoint(connection: Connection, table: str) -> str:
    """Return the endpoint of a reference table relative to the REST API root."""
    cloud, data_center = TABLE_ENDPOINTS[table]
    return cloud if connection.flavor == "cloud" else data_center


def endpoint_path(connection: Connection, table: str) -> str:
    """Return the path a reference table is read from, such as `/rest/api/3/project/search`."""
    return connection.api_path(table_endpoint(connection, table))


def read_list(client: JiraClient, endpoint: str) -> list[dict[str, Any]]:
    """GET an endpoint that returns a bare list, such as `status`, `priority` or `field`."""
    path = client.connection.api_path(endpoint)
    found = client.get(path)
    if not isinstance(found, list):
        raise PayloadError(f"{path} returned a {type(found).__name__}, expected a list.")
    return found


def read_users(client: JiraClient) -> Iterator[dict[str, Any]]:
    """Yield every user the caller may see, apps and inactive users included."""
    path = endpoint_path(client.connection, "users")
    params = None
    if client.connection.flavor == "dc":
        params = {"username": ".", "includeInactive": "true"}
    for page in offset_pages(client, path, None, params=params, page_size=USER_PAGE_SIZE):
        yield from page


def read_projects(client: JiraClient) -> Iterator[dict[str, Any]]:
    """Yield every project the caller may browse."""
    if client.connection.flavor == "cloud":
        path = endpoint_path(client.connection, "projects")
        for page in offset_pages(client, path, "values", page_size=PROJECT_PAGE_SIZE):
            yield from page
    else:
        yield from read_list(client, table_endpoint(client.connection, "projects"))


def read_project_versions(client: JiraClient, project_id: int) -> list[dict[str, Any]]:
    endpoint = table_endpoint(client.connection, "versions")
    return read_list(client, endpoint.format(project_id=project_id))


def read_project_components(client: JiraClient, project_id: int) -> list[dict[str, Any]]:
    endpoint = table_endpoint(client.connection, "components")
    return read_list(client, endpoint.format(project_id=project_id))

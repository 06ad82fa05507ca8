"""Work out where the API lives for the chosen auth mode: gateway, site or Data Center server."""

from __future__ import annotations

import ipaddress
import logging
import re
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

import httpx

from pipelines import json_text
from pipelines.client.auth import JiraAuth
from pipelines.client.tls import shared_tls_context
from pipelines.client.urls import clean_url, join_url
from pipelines.errors import ConfigError, JiraHttpError

logger = logging.getLogger("jira_etl.connection")

DEFAULT_GATEWAY_URL = "https://api.atlassian.com"
_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


@dataclass(frozen=True)
class Connection:
    """Routing of requests: API root, deployment flavor, host kind and credentials.

    Attributes:
        api_root: the URL that `/rest/api/...` is appended to.
        flavor: `cloud` (v3 API, token-paged search) or `dc` (v2 API, offset-paged search).
        host_kind: `gateway` (api.atlassian.com/ex/jira/{cloudId}), `site` or `server`.
        cloud_id: the cloud id used at the gateway, when known.
        cloud_id_source: `given`, `tenant_info` or None.
    """

    api_root: str
    flavor: Literal["cloud", "dc"]
    host_kind: Literal["gateway", "site", "server"]
    auth: JiraAuth
    cloud_id: str | None = None
    cloud_id_source: str | None = None

    @property
    def api_version(self) -> str:
        return "2" if self.flavor == "dc" else "3"

    def api_path(self, path: str) -> str:
        """Return `/rest/api/{version}/{path}` for this deployment."""
        return f"/rest/api/{self.api_version}/{path.lstrip('/')}"


def resolve_connection(
    auth: JiraAuth,
    *,
    base_url: str | None = None,
    site_url: str | None = None,
    cloud_id: str | None = None,
    gateway_url: str | None = None,
    http: httpx.Client | None = None,
) -> Connection:
    """Choose the API root for `auth`, discovering the cloud id from the site when needed.

    `base_url` wins whatever the mode. Otherwise `bearer` goes to the gateway
    (`{gateway_url}/ex/jira/{cloud_id}`), `basic` to the site and `pat` to the server.

    Raises:
        ConfigError: no URL to work from, an invalid URL, a site on this machine without a
            gateway URL, or the cloud id cannot be discovered.
    """
    gateway_root = DEFAULT_GATEWAY_URL
    if gateway_url:
        gateway_root = _check_url(gateway_url, "--gateway-url / JIRA_GATEWAY_URL")
    flavor: Literal["cloud", "dc"] = "dc" if auth.mode == "pat" else "cloud"

    if base_url:
        root = _check_url(base_url, "--base-url / JIRA_BASE_URL")
        api_suffix = re.search(r"/rest/api/[0-9]+/?$", root)
        if api_suffix:
            # The API root is the URL that /rest/api/... is appended to, not the API itself.
            logger.warning(
                "--base-url %s ends in %s; using %s as the API root",
                root,
                api_suffix.group(0),
                root[: api_suffix.start()],
            )
            root = root[: api_suffix.start()]
        host_kind: Literal["gateway", "site", "server"]
        if "/ex/jira/" in root:
            host_kind = "gateway"
        elif flavor == "dc":
            host_kind = "server"
        else:
            host_kind = "site"
        found = re.search(r"/ex/jira/([^/]+)", root)
        return Connection(
            api_root=root,
            flavor=flavor,
            host_kind=host_kind,
            auth=auth,
            cloud_id=found.group(1) if found else None,
            cloud_id_source="given" if found else None,
        )

    if auth.mode in ("basic", "pat"):
        if not site_url:
            raise ConfigError(
                f"No Jira URL given for --auth {auth.mode}. Set JIRA_BASE_URL (or JIRA_SITE_URL) "
                "to the site, e.g. https://your-site.atlassian.net, or the Data Center server URL."
            )
        root = _check_url(site_url, "--site-url / JIRA_SITE_URL")
        return Connection(root, flavor, "server" if flavor == "dc" else "site", auth)

    source = "given"
    if not cloud_id:
        if not site_url:
            raise ConfigError(
                "Bearer tokens work only through the gateway "
                f"{gateway_root}/ex/jira/{{cloudId}}. Give the cloud id (--cloud-id / "
                "JIRA_CLOUD_ID) or the site URL (--site-url / JIRA_SITE_URL) to discover it."
            )
        site_root = _check_url(site_url, "--site-url / JIRA_SITE_URL")
        if not gateway_url:
            reject_local_url(site_root, "site URL")
        cloud_id = discover_cloud_id(site_root, http)
        source = "tenant_info"
    cloud_id = cloud_id.strip()
    if not _UUID.match(cloud_id):
        raise ConfigError(
            f"The cloud id `{cloud_id}` is not a UUID. Find it at "
            "https://your-site.atlassian.net/_edge/tenant_info (the `cloudId` value)."
        )
    root = f"{gateway_root}/ex/jira/{cloud_id}"
    return Connection(root, "cloud", "gateway", auth, cloud_id=cloud_id, cloud_id_source=source)


def discover_cloud_id(site_url: str, http: httpx.Client | None = None) -> str:
    """Read the cloud id from `{site_url}/_edge/tenant_info`, which needs no authentication.

    Raises:
        ConfigError: the site did not return a cloud id.
    """
    url = join_url(site_url, "/_edge/tenant_info")
    client = http or httpx.Client(timeout=httpx.Timeout(10.0), verify=shared_tls_context())
    try:
        response = client.get(url)
    except httpx.HTTPError as exc:
        raise ConfigError(
            f"Could not reach {clean_url(url)} to discover the cloud id: {exc.__class__.__name__}. "
            "Check the site URL, or give the cloud id with --cloud-id / JIRA_CLOUD_ID."
        ) from None
    finally:
        if http is None:
            client.close()
    try:
        found = (
            json_text.loads(response.content).get("cloudId")
            if response.status_code == 200
            else None
        )
    except ValueError:
        found = None
    if not isinstance(found, str) or not found:
        raise ConfigError(
            f"{clean_url(url)} returned {response.status_code} without a cloud id. Check that "
            "the site URL is your Jira Cloud site, or give --cloud-id / JIRA_CLOUD_ID. For a "
            "Jira Data Center server and its Personal Access Token, use --auth pat."
        )
    logger.info("Discovered cloud id %s from %s", found, clean_url(url))
    return found


def reject_local_url(url: str, name: str) -> None:
    """Stop a run whose `url` is on this machine while the gateway URL is the default.

    A site or token endpoint on this machine, such as the bundled emulator, issues tokens that
    must not go to the default gateway.

    Raises:
        ConfigError: `url` is on this machine.
    """
    if _on_this_machine(url):
        raise ConfigError(
            f"The {name} `{clean_url(url)}` is on this machine, such as the bundled "
            f"emulator or a tunnel, and no gateway URL is set, so the token would go to "
            f"{DEFAULT_GATEWAY_URL}. Set --gateway-url / JIRA_GATEWAY_URL: the emulator's "
            f"address for the emulator, or {DEFAULT_GATEWAY_URL} for a tunnel to Jira Cloud."
        )


def _on_this_machine(url: str) -> bool:
    """Return True when the host of `url` is `localhost` or resolves to a local address.

    The host is resolved as the request would resolve it, so `localhost.`, `127.1`, names in
    /etc/hosts and IPv4-mapped IPv6 addresses count. The unspecified addresses `0.0.0.0` and
    `::` count as well, because a connection to them reaches this machine, and so do the
    addresses of this machine's network interfaces.
    """
    host = (urlsplit(url).hostname or "").rstrip(".")
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        found = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError):
        # NOTE: a host that does not resolve now fails at the first request instead.
        return False
    return any(
        _is_local_address(str(info[4][0])) or _is_own_address(info[0], info[4]) for info in found
    )


def _is_local_address(text: str) -> bool:
    # getaddrinfo appends the zone to link-local IPv6 addresses, e.g. `fe80::1%eth0`.
    address = ipaddress.ip_address(text.split("%", 1)[0])
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_loopback or address.is_unspecified


def _is_own_address(family: int, address: tuple[Any, ...]) -> bool:
    """Return True when this machine has `address` on one of its network interfaces.

    Binding a socket succeeds only for the machine's own addresses, and sends nothing. Where
    the kernel lets sockets bind to any address (`ip_nonlocal_bind`), the check is skipped.
    """
    if family not in (socket.AF_INET, socket.AF_INET6):
        return False
    version = "ipv4" if family == socket.AF_INET else "ipv6"
    setting = Path(f"/proc/sys/net/{version}/ip_nonlocal_bind")
    try:
        if setting.read_text().strip() != "0":
            return False
    except OSError:
        pass  # No such file outside Linux, where binding a foreign address fails anyway.
    try:
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            probe.bind((address[0], 0, *address[2:]))
    except OSError:
        return False
    return True


def _check_url(url: str, option: str) -> str:
    url = url.strip()
    if not re.match(r"^https?://[^/\s]+", url):
        raise ConfigError(
            f"Invalid URL `{clean_url(url)}` in {option}: expected http(s)://host[/path]."
        )
    try:
        # Both raise on a port they cannot read, as an IPv6 address without brackets gives.
        _ = urlsplit(url).port
        httpx.URL(url)
    except (ValueError, httpx.InvalidURL):
        raise ConfigError(
            f"Invalid URL `{clean_url(url)}` in {option}: the host or port cannot be read. "
            "Write an IPv6 address in brackets, e.g. http://[fd00::2]:8080."
        ) from None
    return url.rstrip("/")


__all__ = [
    "Connection",
    "DEFAULT_GATEWAY_URL",
    "JiraHttpError",
    "reject_local_url",
    "resolve_connection",
]

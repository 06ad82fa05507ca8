"""URL helpers that keep credentials out of anything printed."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

_SECRET_QUERY_KEYS = {"token", "access_token", "refresh_token", "client_secret", "password", "jwt"}


def clean_url(url: str | object) -> str:
    """Return `url` without user info and with secret-looking query values masked."""
    parts = urlsplit(str(url))
    try:
        netloc = _host_and_port(parts.hostname or "", parts.port)
    except ValueError:
        # A port that cannot be read (an IPv6 address without brackets): the text as written.
        netloc = parts.netloc.rpartition("@")[2]
    query = parts.query
    if query:
        kept = []
        for pair in query.split("&"):
            key = pair.split("=", 1)[0]
            kept.append(f"{key}=***" if key.lower() in _SECRET_QUERY_KEYS else pair)
        query = "&".join(kept)
    return urlunsplit((parts.scheme, netloc, parts.path, query, ""))


def host_of(url: str) -> str:
    """Return the host (and port, when not the default) of `url` for messages."""
    parts = urlsplit(url)
    if not parts.hostname:
        return url
    return _host_and_port(parts.hostname, parts.port)


def _host_and_port(host: str, port: int | None) -> str:
    """Join a host and a port as a URL writes them, an IPv6 address in brackets."""
    if ":" in host:
        host = f"[{host}]"
    return f"{host}:{port}" if port else host


def join_url(root: str, path: str) -> str:
    """Append an API path such as `/rest/api/3/field` to a root URL."""
    return root.rstrip("/") + "/" + path.lstrip("/")

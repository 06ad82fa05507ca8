"""The TLS context that every HTTP client of a run verifies Jira and Atlassian with."""

from __future__ import annotations

import os
import ssl
import threading

import httpx

from pipelines.errors import ConfigError

# TLS contexts by the CA settings they were built with (`SSL_CERT_FILE`, `SSL_CERT_DIR`).
_tls_contexts: dict[tuple[str, str], ssl.SSLContext] = {}
_tls_lock = threading.Lock()


def shared_tls_context() -> ssl.SSLContext:
    """Return the TLS context that every client of this process verifies servers with.

    Building a context reads the whole CA bundle (about 20 ms measured here), and a run opens a
    client for each reference table and for the collections of each batch. The context is
    built once for each value of `SSL_CERT_FILE` and `SSL_CERT_DIR`, which httpx reads as it
    would for a client of its own.

    Raises:
        ConfigError: `SSL_CERT_FILE` names a file that is missing, unreadable or contains no
            PEM certificate.
    """
    key = (os.environ.get("SSL_CERT_FILE", ""), os.environ.get("SSL_CERT_DIR", ""))
    with _tls_lock:
        context = _tls_contexts.get(key)
        if context is None:
            try:
                context = httpx.create_ssl_context()
            except OSError as exc:  # ssl.SSLError is an OSError too
                raise ConfigError(_ca_settings_message(exc)) from None
            _tls_contexts[key] = context
    return context


def _ca_settings_message(exc: OSError) -> str:
    # httpx reads SSL_CERT_FILE when it is set and SSL_CERT_DIR only otherwise.
    variable = "SSL_CERT_FILE" if os.environ.get("SSL_CERT_FILE") else "SSL_CERT_DIR"
    value = os.environ.get(variable, "")
    if isinstance(exc, ssl.SSLError):
        reason = "it contains no PEM certificate that OpenSSL can read"
    elif exc.strerror:
        reason = exc.strerror.lower()
    else:
        reason = str(exc)
    return (
        f"Invalid {variable} `{value}`: the CA certificates could not be loaded ({reason}). "
        f"Point {variable} at a PEM file of the CA certificates that sign Jira's certificate, "
        "or unset it to use the CA bundle of certifi."
    )

"""Secret URLs from the environment: one set of rules for webhooks and HTTP targets.

A notification webhook or an HTTP target's URL often carries its secret in
the path or the query, so it is checked here before any connection is made,
and only its scheme and host are ever shown: https only (http only to
loopback, for tests), no ``user:password@``, no spaces, control or non-ASCII
characters, and a host that is a host name or an IP address. Standard
library only: the canary and the orchestrator both use it, neither imports
the other.
"""

from __future__ import annotations

import ipaddress
import re
import urllib.parse
from dataclasses import dataclass

SCHEMES_SHOWN = frozenset({"http", "https", "file", "data", "ftp", "ftps", "ws", "wss",
                           "gopher", "javascript", "mailto"})
_HOSTNAME = re.compile(r"(?=.{1,253}\Z)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
                       r"(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?")


class UrlRefused(ValueError):
    """A URL that breaks the rules; the message shows at most its scheme and host."""


@dataclass(frozen=True)
class SecretUrl:
    """A URL that passed the rules, split for :mod:`http.client`."""

    scheme: str
    host: str
    port: int
    request_path: str  # path and query: the secret part, never shown

    @property
    def shown(self) -> str:
        """The URL as it may be shown: scheme and host only."""
        return shown_origin(self.scheme, self.host)


def shown_origin(scheme: str, host: str) -> str:
    return f"{scheme}://[{host}]" if ":" in host else f"{scheme}://{host}"


def is_loopback(host: str) -> bool:
    """127.0.0.0/8, ::1 or the name localhost: the only hosts plain http may reach."""
    if host.lower() == "localhost":
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv4Address):
        return address in ipaddress.IPv4Network("127.0.0.0/8")
    return address == ipaddress.IPv6Address("::1")


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def parse_secret_url(raw: str, where: str) -> SecretUrl:
    """``raw`` split, or :class:`UrlRefused` saying why not (``where`` names its origin).

    Surrounding whitespace (a secret stored with its newline) is dropped.
    """
    text = raw.strip()
    if not text:
        raise UrlRefused(f"{where} is empty")
    if any(not ch.isascii() or ch.isspace() or not ch.isprintable() for ch in text):
        raise UrlRefused(f"{where} holds spaces, control or non-ASCII characters")
    try:
        split = urllib.parse.urlsplit(text)
        host = split.hostname or ""
        port = split.port
    except ValueError:
        raise UrlRefused(f"{where} is not a valid URL") from None
    scheme = split.scheme.lower()
    if scheme not in ("http", "https"):
        if "://" not in text:
            raise UrlRefused(f"{where} is not an absolute https:// URL (no scheme)")
        named = f" ({scheme}:)" if scheme in SCHEMES_SHOWN else ""
        raise UrlRefused(f"{where} has a scheme other than https{named}: only https is "
                         "allowed (http only to loopback)")
    if not host:
        raise UrlRefused(f"{where} ({scheme}://) has no host")
    if not _HOSTNAME.fullmatch(host) and not _is_ip(host):
        # an escaped "/" (%2F), a backslash or a ";" would make the whole secret the "host"
        raise UrlRefused(f"{where} ({scheme}://) has a host that is not a host name")
    if split.username is not None or split.password is not None:
        raise UrlRefused(f"{where} ({shown_origin(scheme, host)}) holds user:password@ "
                         "credentials, which are not supported")
    if scheme == "http" and not is_loopback(host):
        raise UrlRefused(f"{where} ({shown_origin(scheme, host)}) is plain http: only https "
                         "is allowed (http only to loopback)")
    return SecretUrl(scheme, host, port or (443 if scheme == "https" else 80),
                     (split.path or "/") + (f"?{split.query}" if split.query else ""))


_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^\s'\"<>]+")


def without_url_secrets(text: str) -> str:
    """``text`` with every URL shown as scheme and host only: paths and queries may hold
    tokens (``?access_token=...``), userinfo a password."""
    def shown(match: re.Match[str]) -> str:
        from urllib.parse import urlsplit

        try:
            parts = urlsplit(match.group(0))
            return shown_origin(parts.scheme, parts.hostname or "") + "/…"
        except ValueError:
            return "<a URL>"

    return _URL.sub(shown, text)

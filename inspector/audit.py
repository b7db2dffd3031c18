"""The audit trail: who fetched, viewed, exported, imported or deleted which response, when,
and from which address (behind a trusted reverse proxy, the client's, not the proxy's)."""

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.http import HttpRequest

from . import redaction
from .models import AuditEntry

Action = AuditEntry.Action


def _in(address: str, networks: Sequence[str]) -> bool:
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return False
    for network in networks:
        try:
            if ip in ipaddress.ip_network(network.strip(), strict=False):
                return True
        except ValueError:
            continue
    return False


def client_address(remote: str, forwarded_for: str, trusted: Sequence[str]) -> str | None:
    """The client's address: REMOTE_ADDR, unless it is a trusted proxy; then the nearest
    address in X-Forwarded-For that is not a trusted proxy (right to left: the left part is
    whatever the client claimed). None if no valid address is found."""
    hops = [remote, *reversed([h.strip() for h in forwarded_for.split(",") if h.strip()])]
    for number, hop in enumerate(hops, 1):
        if not _in(hop, ["0.0.0.0/0", "::/0"]):
            return None  # not an address: stop rather than believe what comes after
        if not _in(hop, trusted) or number == len(hops):
            return hop
    return None


@dataclass(frozen=True)
class Actor:
    """Who entries name: a user of this site and their address, or (the command line) none."""

    user: Any = None
    username: str = ""
    remote_addr: str | None = None

    def write(self, action: str, entries: Sequence[tuple[str, str]]) -> None:
        """One entry per (response id, detail), in one INSERT; the configured API key can
        never be part of one (masked before the detail is cut to fit)."""
        key = settings.OPENAI_API_KEY
        AuditEntry.objects.bulk_create(
            AuditEntry(
                user=self.user,
                username=self.username,
                action=action,
                response_id=response_id[:128],
                detail=redaction.clip(detail, 500, key),
                remote_addr=self.remote_addr,
            )
            for response_id, detail in entries
        )


def request_address(request: HttpRequest) -> str | None:
    """The request's client address (client_address with TRUSTED_PROXIES); also the address
    login throttling counts by (settings.AXES_CLIENT_IP_CALLABLE)."""
    return client_address(
        request.META.get("REMOTE_ADDR", ""),
        request.META.get("HTTP_X_FORWARDED_FOR", ""),
        settings.TRUSTED_PROXIES,
    )


def actor(request: HttpRequest, username: str = "") -> Actor:
    """The request's user (or, for a failed login, no user but the name tried)."""
    user = getattr(request, "user", None)
    user = user if user is not None and user.is_authenticated else None
    return Actor(
        user=user,
        username=user.get_username() if user else username[:150],
        remote_addr=request_address(request),
    )


def login_failed(sender: Any, credentials: dict[str, Any], request: Any = None, **_: Any) -> None:
    """Every failed login, with the username tried (signal user_login_failed)."""
    if request is None:
        return
    locked = getattr(request, "axes_locked_out", False)
    detail = "refused: too many failed logins (login throttling)" if locked else "wrong password"
    actor(request, str(credentials.get("username", ""))).write(Action.LOGIN_FAILED, [("", detail)])


def record(request: HttpRequest, action: str, response_id: str = "", detail: str = "") -> None:
    """Write one entry; the configured API key can never be part of it."""
    actor(request).write(action, [(response_id, detail)])

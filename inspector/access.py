"""Who may do what: the roles (Django groups), the permission each view needs, and the
per-user rate limit on upstream fetches.

A role is a group with a fixed set of permissions, created by migration 0010 and kept
present by `sync_roles` after every migrate (a flush empties the groups table). Every view
carries `@need(...)`: the server refuses what a user may not do with 403 whatever the page
showed; templates hide it with `perms`. Superusers have every permission.

The rate limit counts upstream fetches per user in fixed windows through Django's cache
framework, so every worker and host that shares the cache (the database cache by default)
shares the count. A slot is claimed with cache.add, which is atomic on every backend (a
unique key on the database cache), so concurrent requests can never overshoot the limit.
"""

import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from functools import wraps
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured, PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

VIEW = "inspector.view_storedresponse"
FETCH = "inspector.fetch_upstream"
REVIEW = "inspector.review"
IMPORT = "inspector.import_responses"
UPDATE_BY_IMPORT = "inspector.update_by_import"
DELETE = "inspector.delete_storedresponse"
UNREDACTED = "inspector.export_unredacted"
SAVE_SESSION = "inspector.add_playgroundsession"
AUDIT = "inspector.view_auditentry"

#: role (group name) -> its permissions ("app_label.codename"). Each role can read.
READ = (VIEW, "inspector.view_playgroundsession", SAVE_SESSION)
ROLES: dict[str, tuple[str, ...]] = {
    "viewer": READ,
    "fetcher": (*READ, FETCH),
    "reviewer": (*READ, REVIEW),
    "importer": (*READ, IMPORT),
    "admin": (*READ, FETCH, REVIEW, IMPORT, UPDATE_BY_IMPORT, DELETE, UNREDACTED, AUDIT),
}

#: What each permission lets a user do, for the 403 page.
WHAT = {
    VIEW: "read stored responses (the viewer role)",
    FETCH: "fetch from the upstream API (the fetcher role)",
    REVIEW: "write notes and set review status (the reviewer role)",
    IMPORT: "import responses (the importer role)",
    UPDATE_BY_IMPORT: "update a stored response by importing it (the admin role)",
    DELETE: "delete stored responses (the admin role)",
    UNREDACTED: "export without redaction (the admin role)",
    SAVE_SESSION: "save playground sessions (the viewer role)",
    AUDIT: "read the audit trail (the admin role)",
}


#: Why an action that needs the upstream cannot work here, shown beside it disabled.
NO_KEY = "needs OPENAI_API_KEY, which this server does not have"


def upstream(request: HttpRequest) -> dict[str, Any]:
    """Template context: `can_fetch`, whether this user's actions may reach the upstream (the
    fetcher role, and a key); `fetch_blocked`, why not when only the key is missing."""
    user = getattr(request, "user", None)
    may = bool(user is not None and user.has_perm(FETCH))
    ready = bool(settings.OPENAI_API_KEY)
    return {"can_fetch": may and ready, "fetch_blocked": NO_KEY if may and not ready else ""}


def sync_roles(**kwargs: Any) -> None:
    """Create the role groups that are missing, with their permissions (post_migrate).

    A group that exists is left as the admins made it.
    """
    from django.contrib.auth.models import Group, Permission

    for name, perms in ROLES.items():
        group, created = Group.objects.get_or_create(name=name)
        if created:
            codenames = [perm.split(".", 1)[1] for perm in perms]
            found = Permission.objects.filter(
                content_type__app_label="inspector", codename__in=codenames
            )
            group.permissions.set(found)


def may_delete_note(user: Any, note: Any) -> bool:
    """Admins delete any note; a reviewer, the notes they wrote."""
    if user.has_perm(DELETE):
        return True
    return bool(user.has_perm(REVIEW) and user.pk and note.author_id == user.pk)


def may_delete(user: Any, stored: Any) -> bool:
    """Admins delete any stored response; a user, those they fetched (or imported)."""
    return bool(user.has_perm(DELETE) or (user.pk and stored.fetched_by_id == user.pk))


# --- the rate limit on upstream fetches ---------------------------------------------------

_RATE = re.compile(r"^\s*(\d+)\s*/\s*(\d*)\s*(s|sec|second|m|min|minute|h|hour|d|day)s?\s*$")
_SECONDS = {"s": 1, "sec": 1, "second": 1, "m": 60, "min": 60, "minute": 60, "h": 3600,
            "hour": 3600, "d": 86400, "day": 86400}  # fmt: skip


@dataclass(frozen=True)
class Rate:
    count: int
    seconds: int

    def __str__(self) -> str:
        return f"{self.count} per {self.seconds} s"


def parse_rate(text: str, setting: str = "FETCH_RATE_LIMIT") -> Rate | None:
    """ "30/min", "100/h", "5/10s" -> Rate; "" or "0/min" -> None (no limit)."""
    if not text.strip():
        return None
    match = _RATE.match(text.lower())
    if match is None:
        raise ImproperlyConfigured(f"{setting}: {text!r} is not like 30/min or 100/h")
    count, times, unit = int(match.group(1)), int(match.group(2) or 1), match.group(3)
    return Rate(count, times * _SECONDS[unit]) if count else None


class Limited(Exception):
    """A user did as much of something as its setting allows in this window."""

    #: The setting, and what it counts (for the 429 page).
    setting = ""
    what = ""

    def __init__(self, rate: Rate, retry_after: int) -> None:
        super().__init__(f"{rate.count} {self.what} per {rate.seconds} s")
        self.rate = rate
        self.retry_after = retry_after


class FetchLimited(Limited):
    """A user made as many upstream fetches as FETCH_RATE_LIMIT allows in this window."""

    setting, what = "FETCH_RATE_LIMIT", "upstream fetches"


def _retry_after(rate: Rate, now: float) -> int:
    return max(1, int((int(now // rate.seconds) + 1) * rate.seconds - now) + 1)


def take_fetch_slot(user_id: Any, rate: Rate | None, now: float | None = None) -> None:
    """Claim one fetch for `user_id` in the current window, or raise FetchLimited."""
    if rate is None:
        return
    now = time.time() if now is None else now
    window = int(now // rate.seconds)
    key = f"inspector:fetch-rate:{user_id}:{rate.seconds}:{window}"
    timeout = rate.seconds + 5
    start = cache.get(f"{key}:next", 0)
    for slot in range(start, rate.count):
        if cache.add(f"{key}:{slot}", 1, timeout):
            cache.set(f"{key}:next", slot + 1, timeout)
            return
    raise FetchLimited(rate, retry_after=_retry_after(rate, now))


def take_fetch(request: HttpRequest) -> None:
    """The user may fetch from upstream now: the permission, then one slot of the limit."""
    if not request.user.has_perm(FETCH):
        raise PermissionDenied(WHAT[FETCH])
    take_fetch_slot(request.user.pk, parse_rate(settings.FETCH_RATE_LIMIT))


# --- the limit on playground counting work ------------------------------------------------
#
# A local count costs CPU in proportion to what is counted (a 5 MB request, some 7 s), and the
# playground counts as one types. Each user has PLAYGROUND_COUNT_LIMIT seconds of counting per
# window ("10/min"): a count starts only while the time spent in this window is under it, and
# its own time is added when it ends (so one long count can end past the budget, once).


class CountLimited(Limited):
    """A user spent as many seconds counting as PLAYGROUND_COUNT_LIMIT allows in this window."""

    setting, what = "PLAYGROUND_COUNT_LIMIT", "seconds of playground counting"


def _count_key(user_id: Any, rate: Rate, now: float) -> str:
    return f"inspector:count-work:{user_id}:{rate.seconds}:{int(now // rate.seconds)}"


@contextmanager
def counting_work(user_id: Any, rate: Rate | None) -> Iterator[None]:
    """Run the block if this user has counting time left in the window (else CountLimited),
    and charge the time it took."""
    if rate is None:
        yield
        return
    now = time.time()
    key = _count_key(user_id, rate, now)
    if cache.get(key, 0) >= rate.count * 1000:
        raise CountLimited(rate, retry_after=_retry_after(rate, now))
    start = time.monotonic()
    try:
        yield
    finally:
        spent = max(1, round((time.monotonic() - start) * 1000))
        cache.add(key, 0, rate.seconds + 5)
        with suppress(ValueError):  # expired in between: the window is over anyway
            cache.incr(key, spent)


# --- the decorator every view carries -----------------------------------------------------


def need(*perms: str, fetch: bool = False, counts: bool = False) -> Callable[[Any], Any]:
    """The view needs `perms` (403 otherwise); `fetch`: it fetches, so take a rate slot;
    `counts`: it counts tokens locally, so it takes time from PLAYGROUND_COUNT_LIMIT.

    A Limited raised anywhere in the view (a fetch it makes only sometimes) becomes the 429
    page.
    """

    def decorate(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            missing = [perm for perm in perms if not request.user.has_perm(perm)]
            if missing:
                raise PermissionDenied("; ".join(WHAT.get(p, p) for p in missing))
            try:
                if fetch:
                    take_fetch(request)
                if not counts:
                    return view(request, *args, **kwargs)
                rate = parse_rate(settings.PLAYGROUND_COUNT_LIMIT, "PLAYGROUND_COUNT_LIMIT")
                with counting_work(request.user.pk, rate):
                    return view(request, *args, **kwargs)
            except Limited as limited:
                return rate_limited(request, limited)

        wrapped.required_permissions = perms  # type: ignore[attr-defined]
        return wrapped

    return decorate


def rate_limited(request: HttpRequest, limited: Limited) -> HttpResponse:
    context = {"rate": limited.rate, "retry_after": limited.retry_after, "limited": limited,
               "setting": getattr(settings, limited.setting)}  # fmt: skip
    # htmx swaps the answer into part of a page: the message alone.
    template = "429.html#message" if getattr(request, "htmx", False) else "429.html"
    answer = render(request, template, context, status=429)
    answer["Retry-After"] = str(limited.retry_after)
    return answer

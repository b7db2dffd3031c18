"""Notes and review status: who said what about a response or one of its items, and when.

An anchor names what a note is about: "" the response as a whole, else the item's anchor
(`anchors.item_anchor`: `item-<id>`, or `item-<section>-<position>` for an item without one).
Both hang on the StoredResponse row, which a re-fetch updates in place, so they survive it.
Bundles carry them as `notes` and `review` (see `export` / `restore`).
"""

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from . import redaction
from .anchors import valid_anchor
from .models import Note, StoredResponse

NOTE_MAX = 10_000
#: The `kind` a bundle names itself by; its one home, as the store imports this module.
BUNDLE_KIND = "responses-inspector.bundle"
NAME_MAX = 150
Review = StoredResponse.Review


def _name(user: AbstractBaseUser | AnonymousUser | None) -> str:
    return str(user.get_username())[:NAME_MAX] if user and user.is_authenticated else ""


def _user(user: AbstractBaseUser | AnonymousUser | None) -> Any:
    """The user to link, if a real one (the auth model is swappable, hence Any)."""
    return user if isinstance(user, get_user_model()) and user.is_authenticated else None


def add_note(
    stored: StoredResponse, anchor: str, text: str, user: AbstractBaseUser | AnonymousUser
) -> Note:
    if not valid_anchor(anchor):
        raise ValueError(f"not an item anchor: {anchor[:40]!r}")
    return Note.objects.create(
        response=stored, anchor=anchor, text=text, author=_user(user), author_name=_name(user)
    )


def set_review(stored: StoredResponse, status: str, user: AbstractBaseUser | AnonymousUser) -> None:
    stored.review_status = Review(status)
    stored.reviewed_by = _user(user)
    stored.reviewed_by_name = _name(user)
    stored.reviewed_at = timezone.now()
    stored.review_imported = False
    stored.save(
        update_fields=[
            "review_status",
            "reviewed_by",
            "reviewed_by_name",
            "reviewed_at",
            "review_imported",
        ]
    )
    _review_changed(stored.id)


def _review_changed(response_id: str) -> None:
    """The run's review status is summed from its turns' (inspector/store/runs.py)."""
    from .store import runs  # here: the store imports this module

    runs.refresh([response_id])


# --- in bundles ---------------------------------------------------------------------------


@dataclass(frozen=True)
class NoteIn:
    anchor: str
    author_name: str
    text: str
    created_at: datetime


@dataclass(frozen=True)
class ReviewIn:
    status: str
    by: str
    at: datetime | None


def export(stored: StoredResponse) -> dict[str, Any]:
    """A response's `notes` and `review`, as a bundle carries them."""
    return {
        "notes": [
            {
                "anchor": note.anchor,
                "author": note.author_name,
                "text": note.text,
                "created_at": note.created_at.isoformat(),
            }
            for note in stored.notes.all()
        ],
        "review": {
            "status": stored.review_status,
            "by": stored.reviewed_by_name or None,
            "at": stored.reviewed_at.isoformat() if stored.reviewed_at else None,
        },
    }


def _when(value: Any, where: str) -> datetime:
    if not isinstance(value, str):
        raise ValueError(f"{where}: expected an ISO 8601 time")
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        shown = redaction.clip(value, 40, settings.OPENAI_API_KEY)
        raise ValueError(f"{where}: not an ISO 8601 time: {shown!r}") from None
    return when if timezone.is_aware(when) else timezone.make_aware(when, UTC)


def parse(notes: Any, review: Any) -> tuple[list[NoteIn], ReviewIn | None]:
    """Validate a bundle's `notes` and `review`; raises ValueError saying what is wrong."""
    parsed: list[NoteIn] = []
    key = settings.OPENAI_API_KEY  # kept text: the key masked, as everywhere (rows.py)
    if notes is not None and not isinstance(notes, list):
        raise ValueError("notes must be a list")
    for n, note in enumerate(notes or []):
        where = f"notes[{n}]"
        if not isinstance(note, dict):
            raise ValueError(f"{where}: expected an object")
        anchor, author, text = note.get("anchor", ""), note.get("author"), note.get("text")
        if not isinstance(anchor, str) or not valid_anchor(anchor):
            raise ValueError(f"{where}: not an item anchor")
        if not isinstance(author, str) or not author or len(author) > NAME_MAX:
            raise ValueError(f"{where}: author must be a user name")
        if not isinstance(text, str) or not text.strip() or len(text) > NOTE_MAX:
            raise ValueError(f"{where}: text must be 1 to {NOTE_MAX} characters")
        when = _when(note.get("created_at"), where)
        parsed.append(NoteIn(anchor, redaction.clip(author, NAME_MAX, key),
                             redaction.clip(text, NOTE_MAX, key), when))  # fmt: skip
    if review is None:
        return parsed, None
    if not isinstance(review, dict) or review.get("status") not in Review.values:
        raise ValueError(f"review: status must be one of {', '.join(Review.values)}")
    by = review.get("by") or ""
    if not isinstance(by, str) or len(by) > NAME_MAX:
        raise ValueError("review: by must be a user name")
    at = None if review.get("at") is None else _when(review["at"], "review.at")
    return parsed, ReviewIn(review["status"], redaction.clip(by, NAME_MAX, key), at)


def parse_bundle(obj: Any) -> tuple[list[NoteIn], ReviewIn | None]:
    """The notes and review of a bundle (none for a bare Response); ValueError if bad."""
    if not isinstance(obj, dict) or obj.get("kind") != BUNDLE_KIND:
        return [], None
    return parse(obj.get("notes"), obj.get("review"))


def restore(response_id: str, notes: list[NoteIn], review: ReviewIn | None) -> int:
    """Add the notes not already there and take the review where no local one is; notes
    added. Only for importers who may review (the store checks).

    Both are marked imported, and their author is the name the bundle gives, as text: never
    a user of this site. A note is already there when anchor, author, text and time all
    match, so importing the same bundle twice adds nothing. The review is taken only over
    no review at all or an older imported one, never over a verdict given here, and its time
    is at most now (a note's too): a bundle dated 2099 cannot outrank a later local "flagged".
    """
    if not notes and review is None:
        return 0
    now = timezone.now()
    with transaction.atomic():
        stored = StoredResponse.objects.select_for_update().get(pk=response_id)
        have = set(stored.notes.values_list("anchor", "author_name", "text", "created_at"))
        # A note dated later than now was kept dated now: the same one again is there if its
        # text is (whenever it was kept).
        texts = {note[:3] for note in have}
        new = [
            Note(response=stored, anchor=n.anchor, author_name=n.author_name, text=n.text,
                 created_at=min(n.created_at, now), imported=True)
            for n in dict.fromkeys(notes)
            if (n.anchor, n.author_name, n.text, n.created_at) not in have
            and (n.created_at <= now or (n.anchor, n.author_name, n.text) not in texts)
        ]  # fmt: skip
        Note.objects.bulk_create(new)
        if review is not None and review.at is not None:
            at = min(review.at, now)
            open_to_it = Q(reviewed_at__isnull=True) | Q(review_imported=True, reviewed_at__lt=at)
            StoredResponse.objects.filter(open_to_it, pk=stored.pk).update(
                review_status=review.status,
                reviewed_by=None,
                reviewed_by_name=review.by,
                reviewed_at=at,
                review_imported=True,
            )
            _review_changed(stored.id)
    return len(new)

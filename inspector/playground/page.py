"""Everything the playground page (or one of its htmx fragments) shows, gathered once."""

from typing import Any

from django.conf import settings

from ..models import PlaygroundSession
from .batch import BATCH_MAX_LINES, BatchEstimate
from .form import MODEL_SUGGESTIONS, BatchForm, PlaygroundForm, SaveForm
from .local import RULES, TOKEN_VIEW_LIMIT, fingerprint, local_result
from .remote import (
    ATTRIBUTION_MAX_CALLS,
    ApiResult,
    Attribution,
    progress_fingerprint,
    saved_sessions,
)


def page(
    form: PlaygroundForm,
    *,
    notes: list[str] | None = None,
    session: PlaygroundSession | None = None,
    api: ApiResult | None = None,
    attributed: Attribution | None = None,
    save_form: SaveForm | None = None,
    api_for: str = "",
    attribution_state: str = "",
    batch_form: BatchForm | None = None,
    batch: BatchEstimate | None = None,
) -> dict[str, Any]:
    """Everything the playground page (or its count fragment) shows."""
    now = fingerprint(form.request) if form.request is not None else ""
    attributed_for = progress_fingerprint(attribution_state)
    return {
        "form": form,
        "result": local_result(form, settings.OPENAI_BASE_URL),
        "notes": notes or [],
        "session": session,
        "api": api,
        "attribution": attributed,
        "save_form": save_form or SaveForm(),
        "sessions": saved_sessions(),
        "model_suggestions": MODEL_SUGGESTIONS,
        "rules": RULES,
        "fingerprint": now,
        "api_stale": bool(api_for) and api_for != now,
        "attribution_stale": bool(attributed_for) and attributed_for != now,
        "token_view_limit": TOKEN_VIEW_LIMIT,
        "max_calls": ATTRIBUTION_MAX_CALLS,
        "batch_form": batch_form or BatchForm(initial=_batch_initial(form)),
        "batch": batch,
        "batch_max_lines": BATCH_MAX_LINES,
    }


def _batch_initial(form: PlaygroundForm) -> dict[str, Any]:
    """The batch form starts from the playground form's model and assumptions."""
    return {name: form.data.get(name) for name in BATCH_SHARED if form.data.get(name)}


#: The fields the batch estimate takes from the playground form, as a start.
BATCH_SHARED = ("model", "output_tokens", "reasoning_tokens", "cached_share")

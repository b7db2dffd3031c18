"""Forms: every input a view validates. The lookup box, the list's filters, notes and review
status, the import upload, the compare picker, the event replay and live follow, and the
filters of /runs/ and /overview/."""

from datetime import timedelta
from typing import Any

from django import forms

from . import anchors, listing, notes, problems, store
from .client import extract_response_id
from .events import Follow
from .models import Run, StoredResponse
from .store import MAX_DAYS, MAX_HOURLY_DAYS, RUN_SORTS, Asked, RunFilters, day_start


class LookupForm(forms.Form):
    q = forms.CharField(
        label="Response id or URL",
        max_length=2000,
        widget=forms.TextInput(
            attrs={"placeholder": "resp_… or https://platform.openai.com/logs/resp_…"}
        ),
    )

    def clean_q(self) -> str:
        try:
            return extract_response_id(self.cleaned_data["q"])
        except ValueError as error:
            raise forms.ValidationError(str(error)) from None


# --- the list on /, notes, review, import, compare ---------------------------------------


class ListFilterForm(forms.Form):
    """The list's filters, read from the URL (GET), so a filtered list can be shared."""

    q = forms.CharField(label="Text", required=False, max_length=200)
    model = forms.ChoiceField(label="Model", required=False)
    status = forms.ChoiceField(
        label="Status", required=False, choices=[("", "any"), *((s, s) for s in listing.STATUSES)]
    )
    tool = forms.CharField(label="Tool name", required=False, max_length=200)
    # Not `has_error`: that name is a Form method.
    error = forms.NullBooleanField(
        label="Error",
        required=False,
        widget=forms.Select(choices=[("", "any"), ("true", "with error"), ("false", "no error")]),
    )
    problem = forms.ChoiceField(
        label="Problem", required=False, choices=[("", "any"), *problems.KINDS]
    )
    review = forms.ChoiceField(
        label="Review",
        required=False,
        choices=[("", "any"), *StoredResponse.Review.choices],
    )
    created_from = forms.DateField(
        label="Created from", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    created_to = forms.DateField(
        label="to", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    meta_key = forms.CharField(label="Metadata key", required=False, max_length=64)
    meta_value = forms.CharField(label="= value", required=False, max_length=512)
    sort = forms.ChoiceField(
        label="Sort",
        required=False,
        choices=[(key, label) for key, (label, _) in listing.SORTS.items()],
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["model"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [("", "any"), *((v, v) for v in listing.distinct_values("model"))]

    def clean_meta_key(self) -> str:
        key: str = self.cleaned_data["meta_key"].strip()
        if key and not listing.METADATA_KEY.fullmatch(key):
            raise forms.ValidationError("Letters, digits and _ . : - only, up to 64.")
        return key

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("created_from"), data.get("created_to")
        if start and end and start > end:
            self.add_error("created_to", "Before the start date.")
        return data

    def filters(self) -> listing.Filters:
        """The validated filters; an invalid field filters nothing (it shows its error)."""
        data = self.cleaned_data if self.is_valid() else {}
        data = {k: v for k, v in data.items() if k not in self.errors}
        return listing.Filters(
            model=data.get("model") or "",
            status=data.get("status") or "",
            tool=(data.get("tool") or "").strip(),
            has_error=data.get("error"),
            review=data.get("review") or "",
            created_from=data.get("created_from"),
            created_to=data.get("created_to"),
            meta_key=data.get("meta_key") or "",
            meta_value=data.get("meta_value") or "",
            q=(data.get("q") or "").strip(),
            problem=data.get("problem") or "",
            sort=data.get("sort") or listing.DEFAULT_SORT,
        )


class ItemFilterForm(forms.Form):
    """Which items the response page shows (by type, message role, tool name) and where:
    the input page, and for a "load earlier / more" step its direction."""

    type = forms.CharField(required=False, max_length=64)
    role = forms.CharField(required=False, max_length=32)
    name = forms.CharField(required=False, max_length=200)
    page = forms.IntegerField(required=False, min_value=1, max_value=10**7)

    def only(self) -> store.ItemFilter:
        data = self.cleaned_data if self.is_valid() else {}
        return store.ItemFilter(
            type=(data.get("type") or "").strip(),
            role=(data.get("role") or "").strip(),
            name=(data.get("name") or "").strip(),
        )

    def page_number(self) -> int:
        return (self.cleaned_data.get("page") if self.is_valid() else None) or 1


class GotoForm(forms.Form):
    """An item by its place: ?input=N (1-based, as the page numbers items), ?output=N or
    ?instructions=N; the first one given counts."""

    input = forms.IntegerField(required=False, min_value=1, max_value=10**9)
    output = forms.IntegerField(required=False, min_value=1, max_value=10**9)
    instructions = forms.IntegerField(required=False, min_value=1, max_value=10**9)
    #: Or an item's anchor (a note's), which the store finds the place of.
    anchor = forms.CharField(required=False, max_length=220)

    def clean_anchor(self) -> str:
        anchor: str = self.cleaned_data["anchor"]
        if not anchors.valid_anchor(anchor):
            raise forms.ValidationError("Not an item's anchor.")
        return anchor

    def place(self) -> tuple[str, int] | None:
        """(section, number) asked for; ("anchor", 0) when only an anchor is."""
        if not self.is_valid():
            return None
        for section in ("input", "output", "instructions"):
            if self.cleaned_data.get(section):
                return section, self.cleaned_data[section]
        return ("anchor", 0) if self.cleaned_data.get("anchor") else None


class NoteForm(forms.Form):
    text = forms.CharField(
        label="Note",
        max_length=notes.NOTE_MAX,
        widget=forms.Textarea(attrs={"rows": 3, "dir": "auto"}),
    )
    anchor = forms.CharField(required=False, max_length=220, widget=forms.HiddenInput)

    def clean_anchor(self) -> str:
        anchor: str = self.cleaned_data["anchor"]
        if not anchors.valid_anchor(anchor):
            raise forms.ValidationError("Not an item of this response.")
        return anchor


class ReviewForm(forms.Form):
    status = forms.ChoiceField(choices=StoredResponse.Review.choices)


class ImportForm(forms.Form):
    file = forms.FileField(
        label="JSON, JSONL or bundle file",
        help_text="A Response object, a JSON array of them, JSONL (one a line) or bundles.",
    )


class ResponseIdsField(forms.Field):
    """Two response ids (or URLs ending in one) from repeated `r` parameters."""

    widget = forms.MultipleHiddenInput

    def to_python(self, value: Any) -> list[str]:
        values = [v for v in (value or []) if isinstance(v, str) and v.strip()]
        try:
            return [extract_response_id(v) for v in values]
        except ValueError as error:
            raise forms.ValidationError(str(error)) from None

    def validate(self, value: Any) -> None:
        if len(value) != 2:
            raise forms.ValidationError("Pick exactly two responses to compare.")


class CompareForm(forms.Form):
    r = ResponseIdsField(label="Responses")


class ReplayForm(forms.Form):
    """Replay a response's event stream: from the start, or after a sequence number."""

    starting_after = forms.IntegerField(
        label="Replay after sequence number", min_value=0, max_value=2**62, required=False
    )


class FollowForm(forms.Form):
    """The live-follow state a timeline page carries from one poll to the next."""

    shown = forms.IntegerField(min_value=0, max_value=2**62, required=False)
    failures = forms.IntegerField(min_value=0, max_value=1000, required=False)
    quiet = forms.IntegerField(min_value=0, max_value=1000, required=False)
    dropped = forms.BooleanField(required=False)

    def state(self) -> Follow:
        data = self.cleaned_data
        return Follow(
            active=True,
            shown=data["shown"],
            failures=data["failures"] or 0,
            quiet=data["quiet"] or 0,
            dropped=data["dropped"],
        )


# --- /runs/ and /overview/ ---------------------------------------------------------------


class RunFilterForm(ListFilterForm):
    """The filters of /runs/: the list's, read from the URL as they are, where a run's turn
    stands for a response (its models, tools, metadata, text), less "error" and plus
    problems and turns; the status is the last turn's."""

    error = None  # type: ignore[assignment]
    problem = None  # type: ignore[assignment]
    problems = forms.NullBooleanField(
        label="Problems",
        required=False,
        widget=forms.Select(choices=[("", "any"), ("true", "with problems"), ("false", "none")]),
    )
    review = forms.ChoiceField(
        label="Review", required=False, choices=[("", "any"), *Run.Review.choices]
    )
    turns = forms.ChoiceField(
        label="Turns",
        required=False,
        choices=[("", "any"), ("several", "two or more"), ("one", "one")],
    )
    sort = forms.ChoiceField(
        label="Sort",
        required=False,
        choices=[(key, label) for key, (label, _) in RUN_SORTS.items()],
    )
    field_order = ["q", "model", "status", "tool", "problems", "review", "turns"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["status"].label = "Last turn"
        self.fields["created_from"].label = "Started from"

    def filters(self) -> RunFilters:  # type: ignore[override]
        """The validated filters; an invalid field filters nothing (it shows its error)."""
        data = self.cleaned_data if self.is_valid() else {}
        data = {k: v for k, v in data.items() if k not in self.errors}
        start, end = data.get("created_from"), data.get("created_to")
        return RunFilters(
            model=data.get("model") or "",
            status=data.get("status") or "",
            tool=(data.get("tool") or "").strip(),
            problems=data.get("problems"),
            review=data.get("review") or "",
            started_from=day_start(start) if start else None,
            started_before=day_start(end + timedelta(days=1)) if end else None,
            turns=data.get("turns") or "",
            meta_key=data.get("meta_key") or "",
            meta_value=data.get("meta_value") or "",
            q=(data.get("q") or "").strip(),
            sort=data.get("sort") or "-started",
        )


def _model_choices(form: forms.Form) -> None:
    field = form.fields["model"]
    assert isinstance(field, forms.ChoiceField)
    field.choices = [("", "any"), *((v, v) for v in listing.distinct_values("model"))]


def _metadata_key(value: str) -> str:
    key = value.strip()
    if key and not listing.METADATA_KEY.fullmatch(key):
        raise forms.ValidationError("Letters, digits and _ . : - only, up to 64.")
    return key


class OverviewForm(forms.Form):
    """The period and filters of /overview/, read from the URL (GET)."""

    period_from = forms.DateField(
        label="From", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    period_to = forms.DateField(
        label="to", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    by = forms.ChoiceField(label="By", required=False, choices=[("day", "day"), ("hour", "hour")])
    model = forms.ChoiceField(label="Model", required=False)
    meta_key = forms.CharField(label="Metadata key", required=False, max_length=64)
    meta_value = forms.CharField(label="= value", required=False, max_length=512)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _model_choices(self)

    def clean_meta_key(self) -> str:
        return _metadata_key(self.cleaned_data["meta_key"])

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("period_from"), data.get("period_to")
        if start and end:
            if start > end:
                self.add_error("period_to", "Before the start date.")
            elif (end - start).days >= MAX_DAYS:
                self.add_error("period_from", f"At most {MAX_DAYS} days.")
            elif data.get("by") == "hour" and (end - start).days >= MAX_HOURLY_DAYS:
                self.add_error(
                    "by", f"By hour covers at most {MAX_HOURLY_DAYS} days: shown by day."
                )
        return data

    def asked(self) -> Asked:
        """What was asked for; an invalid field asks nothing (it shows its error), and
        store.Asked.period fills in the rest."""
        data = self.cleaned_data if self.is_valid() else {}
        data = {k: v for k, v in data.items() if k not in self.errors}
        return Asked(
            first=data.get("period_from"),
            last=data.get("period_to"),
            by_hour=data.get("by") == "hour",
            model=data.get("model") or "",
            meta_key=data.get("meta_key") or "",
            meta_value=data.get("meta_value") or "",
        )

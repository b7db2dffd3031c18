"""Django ORM: the tables. Stored responses and their input items, notes, playground sessions
and token-count samples, the tool-call index, stream events and the audit trail.

What reads and writes them lives elsewhere (the store, notes.py, listing.py, audit.py): here
are the fields, indexes and a few one-line views of a row (StoredResponse.response parses
its body). The runs and the hourly rollups of /runs/ and /overview/ are tables here too;
inspector/store/runs.py and the triggers of migration 0019 keep them.
"""

from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import models
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models.sql.compiler import SQLCompiler
from django.utils import timezone

from . import nesting

if TYPE_CHECKING:
    from .schemas import Response


class KeptJSONField(models.JSONField):
    """JSON this dashboard kept, read back clipped to nesting.MAX_DEPTH: what was stored
    before that limit existed may nest deeper than any page can show (inspector/nesting.py)."""

    def from_db_value(self, value: Any, expression: Any, connection: BaseDatabaseWrapper) -> Any:
        if not isinstance(value, str):
            return super().from_db_value(value, expression, connection)
        try:
            return nesting.loads_clipped(value)
        except ValueError:
            return value  # as Django's JSONField: a key's bare string value (SQLite)


class ExactJSONField(KeptJSONField):
    """JSON kept as written: key order and numbers exactly as the upstream sent them.

    SQLite keeps the text anyway. On PostgreSQL this is the `json` type, not Django's `jsonb`
    (which reorders keys): the page's raw JSON and the exports must be the upstream's body.
    The price: no jsonb lookups (`has_key`, `contains`) on this column; filter on the indexed
    columns instead.
    """

    def db_type(self, connection: BaseDatabaseWrapper) -> str | None:
        if connection.vendor == "postgresql":
            return "json"
        return super().db_type(connection)

    def get_db_prep_value(
        self, value: Any, connection: BaseDatabaseWrapper, prepared: bool = False
    ) -> Any:
        if connection.vendor != "postgresql":
            return super().get_db_prep_value(value, connection, prepared)
        if not prepared:
            value = self.get_prep_value(value)
        # Imported here: psycopg is only installed with the postgres extra.
        from django.db.backends.postgresql.operations import get_json_dumps
        from psycopg.types.json import Json

        return Json(value, dumps=get_json_dumps(self.encoder))

    def select_format(self, compiler: SQLCompiler, sql: str, params: Any) -> tuple[str, Any]:
        # Read the text and decode it here, in order (psycopg would decode `json` itself).
        if compiler.connection.vendor == "postgresql":
            return f"({sql})::text", params
        return sql, params

    def from_db_value(self, value: Any, expression: Any, connection: BaseDatabaseWrapper) -> Any:
        if value is not None and not isinstance(value, str):
            return value
        return super().from_db_value(value, expression, connection)


#: A stored response "has an error": it failed, or carries an error code (the list's filter).
WITH_ERROR = models.Q(status="failed") | ~models.Q(error_code="")


class StoredResponse(models.Model):
    """One upstream response: its exact body plus indexed columns for listing and filters."""

    class Source(models.TextChoices):
        API = "api", "fetched from the API"
        IMPORT = "import", "imported"
        DEMO = "demo", "demo data"

    id = models.CharField(primary_key=True, max_length=128)
    body = ExactJSONField()
    # Indexed by Meta.indexes below, each first in one of them.
    model = models.CharField(max_length=200, blank=True)
    status = models.CharField(max_length=32, blank=True)
    created_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    previous_response_id = models.CharField(max_length=128, blank=True, db_index=True)
    conversation_id = models.CharField(max_length=200, blank=True, db_index=True)
    input_tokens = models.PositiveBigIntegerField(null=True, blank=True)
    cached_tokens = models.PositiveBigIntegerField(null=True, blank=True)
    output_tokens = models.PositiveBigIntegerField(null=True, blank=True)
    reasoning_tokens = models.PositiveBigIntegerField(null=True, blank=True)
    total_tokens = models.PositiveBigIntegerField(null=True, blank=True, db_index=True)
    # "\n"-delimited names of the tools the response called, for exact-name filtering.
    tool_names = models.TextField(blank=True)
    error_code = models.CharField(max_length=100, blank=True)
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.API)
    fetched_at = models.DateTimeField(default=timezone.now)
    fetched_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Input items: how many are stored, whether that is all of them, and why not.
    input_items_count = models.PositiveIntegerField(default=0)
    input_items_complete = models.BooleanField(default=True)
    input_items_error = models.TextField(blank=True)
    # Pages of input items fetched from upstream for these items (OPENAI_MAX_INPUT_PAGES).
    input_items_pages = models.PositiveIntegerField(default=0)
    # Changes at every (re-)fetch; a page of items is only written by the fetch that owns it.
    fetch_token = models.CharField(max_length=32, blank=True)
    # A fetch step holds the response until then (store/fetch.py): viewers share one fetch.
    fetch_lease_until = models.DateTimeField(null=True, blank=True)
    # For the list on /, filled at store time (inspector/listing.py): cost as of created_at;
    # metadata. Its free text is the full-text index (SearchText).
    cost = models.DecimalField(
        max_digits=20, decimal_places=10, null=True, blank=True, db_index=True
    )
    metadata = models.JSONField(default=dict, blank=True)
    # completed_at - created_at, for /overview/'s slowest responses (an index of its own).
    duration = models.DurationField(null=True, blank=True, db_index=True)
    # The run this response belongs to (Run.key), set by inspector/store/runs.py.
    run_key = models.CharField(max_length=220, blank=True, db_index=True)

    # Also for the list: what went wrong ("\n"-delimited problems.KINDS, filled with the
    # tool-call index), the first user input and the start of the output, in a line each.
    problems = models.TextField(blank=True, default="")
    input_preview = models.CharField(max_length=300, blank=True, default="")
    output_preview = models.CharField(max_length=300, blank=True, default="")

    class Review(models.TextChoices):
        UNREVIEWED = "unreviewed", "unreviewed"
        APPROVED = "approved", "approved"
        FLAGGED = "flagged", "flagged"

    # Review status: a re-fetch updates this row in place and never touches these.
    review_status = models.CharField(
        max_length=16, choices=Review.choices, default=Review.UNREVIEWED
    )
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The name as it was when set, so imported reviews keep theirs without a local user.
    reviewed_by_name = models.CharField(max_length=150, blank=True)
    reviewed_at = models.DateTimeField(null=True, blank=True)
    # Taken from an imported bundle (notes.restore): a verdict given elsewhere, never over one
    # given here.
    review_imported = models.BooleanField(default=False)

    class Meta:
        ordering = ["-created_at", "id"]
        # The roles (inspector/access.py) are groups of these and of the default ones.
        permissions = [
            ("fetch_upstream", "Can fetch responses from the upstream API"),
            ("review", "Can write notes and set the review status"),
            ("import_responses", "Can import responses"),
            ("export_unredacted", "Can export responses without redaction"),
            ("update_by_import", "Can update a stored response by importing it"),
        ]
        indexes = [
            models.Index(fields=["-created_at", "id"], name="stored_newest_first"),
            # The list's equality filters, each still newest first without a sort.
            models.Index(fields=["model", "-created_at", "id"], name="stored_by_model"),
            models.Index(fields=["status", "-created_at", "id"], name="stored_by_status"),
            # Model and status together: SQLite, which keeps no statistics, would otherwise
            # count the matches by walking the status index (most rows are "completed") and
            # reading each row; with this index the count reads the index alone.
            models.Index(
                fields=["model", "status", "-created_at", "id"], name="stored_by_model_status"
            ),
            models.Index(fields=["review_status", "-created_at", "id"], name="stored_by_review"),
            # Few rows have an error: a partial index lists (and counts) just those.
            models.Index(
                fields=["-created_at", "id"], condition=WITH_ERROR, name="stored_with_error"
            ),
        ]

    def __str__(self) -> str:
        return self.id

    @property
    def tool_name_list(self) -> list[str]:
        return [name for name in self.tool_names.split("\n") if name]

    def response(self) -> "Response":
        """The stored body, parsed: the one place a kept response becomes a schema object."""
        from .schemas import Response  # here, so the ORM module imports no logic at load time

        return Response.model_validate(self.body)


class ItemColumns(models.Model):
    """What a row of an input item holds besides its response: its position (0-based, oldest
    first), its id and type (indexed columns), and its body."""

    position = models.PositiveIntegerField()
    item_id = models.CharField(max_length=200, blank=True)
    type = models.CharField(max_length=64, blank=True)
    body = KeptJSONField()

    class Meta:
        abstract = True


class InputItem(ItemColumns):
    """One input item of a stored response, at its position (0-based, oldest first)."""

    # No index of its own: the unique (response, position) index below starts with it.
    response = models.ForeignKey(
        StoredResponse, on_delete=models.CASCADE, related_name="items", db_index=False
    )

    class Meta:
        ordering = ["response", "position"]
        constraints = [
            models.UniqueConstraint(fields=["response", "position"], name="one_item_per_position")
        ]

    def __str__(self) -> str:
        return f"{self.response_id}#{self.position}"


class Refresh(models.Model):
    """A refresh from upstream under way: the new body, and its input items (StagedItem),
    kept apart from the stored copy, which they replace only once all of them are fetched.
    A failed refresh leaves the stored copy as it was and says here what failed."""

    response = models.OneToOneField(
        StoredResponse, on_delete=models.CASCADE, primary_key=True, related_name="pending_refresh"
    )
    body = ExactJSONField()
    items_count = models.PositiveIntegerField(default=0)
    pages = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    started_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"refresh of {self.response_id}: {self.items_count} items"


class StagedItem(ItemColumns):
    """One input item of a refresh under way (Refresh), at its position, as InputItem."""

    response = models.ForeignKey(
        StoredResponse, on_delete=models.CASCADE, related_name="staged_items", db_index=False
    )

    class Meta:
        ordering = ["response", "position"]
        constraints = [
            models.UniqueConstraint(fields=["response", "position"], name="one_staged_per_position")
        ]

    def __str__(self) -> str:
        return f"{self.response_id}#{self.position} (staged)"


class SearchText(models.Model):
    """The searchable text of one item of a stored response, a part of it when it is long
    (inspector/search.py says which text): what the full-text index is built over.

    The index is the database's own, made by migration 0016: an FTS5 table kept in step by
    triggers on SQLite; a generated tsvector column with a GIN index on PostgreSQL. The store
    writes these rows with the items (inspector/store/search_index.py).
    """

    response = models.ForeignKey(
        StoredResponse, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    section = models.CharField(max_length=12)  # "instructions", "input" or "output"
    position = models.PositiveIntegerField()
    part = models.PositiveIntegerField(default=0)
    # The item's anchor on the response page (rendering.Row.anchor).
    anchor = models.CharField(max_length=220)
    text = models.TextField()

    class Meta:
        indexes = [
            models.Index(fields=["response", "section", "position"], name="searchtext_by_item")
        ]

    def __str__(self) -> str:
        return f"{self.response_id} {self.section}#{self.position}.{self.part}"


class PlaygroundSession(models.Model):
    """A saved playground state under a name, opened by its permalink /playground/<slug>/."""

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=80, unique=True)
    # The form's fields as typed (strings), so the session reopens exactly as it was saved.
    state = models.JSONField()
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.name


class TokenCountSample(models.Model):
    """One (local estimate, API count) pair, kept per model to show how far estimates run."""

    model = models.CharField(max_length=200, db_index=True)
    local_count = models.PositiveIntegerField()
    api_count = models.PositiveIntegerField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.model}: {self.local_count} local, {self.api_count} API"


class Note(models.Model):
    """A user's note on a stored response, or on one item of it (`anchor`, "" = the response).

    It hangs on the response row, which a re-fetch updates in place, so notes survive it.
    """

    response = models.ForeignKey(StoredResponse, on_delete=models.CASCADE, related_name="notes")
    anchor = models.CharField(max_length=220, blank=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The name as it was when written; imported notes keep theirs without a local user.
    author_name = models.CharField(max_length=150)
    text = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)
    # From an imported bundle: written elsewhere, `author_name` as that bundle gives it.
    imported = models.BooleanField(default=False)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.response_id}#{self.anchor or 'response'} by {self.author_name}"


#: The ToolCall audit flag columns (trace.FLAGS has their meaning).
FLAG_COLUMNS = ("no_output", "bad_json", "breaks_schema", "undeclared", "failed", "needs_approval")


class ToolCall(models.Model):
    """One tool call a stored response made, with its answer and audit flags (/tool-calls/).

    Filled by the store whenever a response is kept (inspector/store/tool_call_index.py):
    the calls in its output, plus calls its input replays when no stored output has them.
    Answers often arrive later, in the input of the next response, and update the row then.
    """

    response = models.ForeignKey(
        StoredResponse, on_delete=models.CASCADE, related_name="tool_calls"
    )
    where = models.CharField(max_length=6)  # "output" or "input"
    position = models.PositiveIntegerField()
    type = models.CharField(max_length=64, db_index=True)
    name = models.CharField(max_length=200, blank=True, db_index=True)
    call_id = models.CharField(max_length=200, blank=True, db_index=True)
    item_id = models.CharField(max_length=200, blank=True, db_index=True)
    # The MCP approval request an mcp_call went through, or "".
    approval_request_id = models.CharField(max_length=200, blank=True, db_index=True)
    status = models.CharField(max_length=32, blank=True)
    # Shortened; the response page has the whole of both.
    arguments = models.TextField(blank=True)
    output = models.TextField(blank=True)
    answered = models.BooleanField(default=False)
    # Audit flags (inspector/trace.py FLAGS), one column each, each with a partial index of
    # the calls that have it (Meta): few rows are in one, and the others never write it.
    no_output = models.BooleanField(default=False)
    bad_json = models.BooleanField(default=False)
    schema_error = models.TextField(blank=True)
    breaks_schema = models.BooleanField(default=False)
    undeclared = models.BooleanField(default=False)
    failed = models.BooleanField(default=False)
    needs_approval = models.BooleanField(default=False)
    approval = models.CharField(max_length=8, blank=True)  # approved / denied / pending
    # Where the answer is, when it is stored: this response, or a later one (its input).
    answer_response_id = models.CharField(max_length=128, blank=True)
    answer_where = models.CharField(max_length=6, blank=True)
    answer_position = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(null=True, blank=True)  # the response's
    model = models.CharField(max_length=200, blank=True)  # the response's, for ToolHour

    class Meta:
        ordering = ["-created_at", "response", "where", "position"]
        indexes = [
            models.Index(
                fields=["-created_at", "response", "where", "position"], name="toolcall_newest"
            ),
            *(
                models.Index(
                    fields=["-created_at", "response", "where", "position"],
                    condition=models.Q((flag, True)),
                    name=f"toolcall_{flag}",
                )
                for flag in FLAG_COLUMNS
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["response", "where", "position"], name="one_call_per_item"
            )
        ]

    def __str__(self) -> str:
        return f"{self.response_id} {self.where}#{self.position} {self.type}"

    @property
    def problems(self) -> list[tuple[str, str]]:
        """(kind, label) of the call's problems (inspector/problems.py decides)."""
        from .problems import LABELS, row_kinds  # here: the ORM module imports no logic

        return [(kind, LABELS[kind]) for kind in row_kinds(self)]

    @property
    def flag_labels(self) -> list[tuple[str, str]]:
        """(flag, label) of the audit flags set, in the order trace.FLAGS gives them."""
        from .trace import FLAGS  # here, so the ORM module imports no logic at load time

        on = {
            "no-output": self.no_output,
            "bad-json": self.bad_json,
            "schema": self.breaks_schema,
            "undeclared": self.undeclared,
            "failed": self.failed,
            "approval": self.needs_approval,
            "denied": self.approval == "denied",
        }
        return [(flag, label) for flag, label in FLAGS if on.get(flag)]


class StreamEvent(models.Model):
    """One server-sent event of a background response, replayed from upstream and kept."""

    response = models.ForeignKey(StoredResponse, on_delete=models.CASCADE, related_name="events")
    sequence_number = models.PositiveBigIntegerField()
    type = models.CharField(max_length=100, blank=True)
    body = ExactJSONField()
    # When this dashboard received it: offsets from the first event are computed when shown,
    # so a timeline read in several bounded requests keeps one clock.
    received_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["response", "sequence_number"]
        constraints = [
            models.UniqueConstraint(
                fields=["response", "sequence_number"], name="one_event_per_sequence_number"
            )
        ]

    def __str__(self) -> str:
        return f"{self.response_id} #{self.sequence_number} {self.type}"


class AuditEntry(models.Model):
    """Who fetched, viewed, exported, imported or deleted which response, when, from where;
    and every failed login.

    Written by the views (inspector/audit.py), read-only in the admin. Keeps the username as
    it was, so an entry outlives its user; `response_id` is not a foreign key, so it outlives
    the response. Never holds the API key (audit.record masks it).
    """

    class Action(models.TextChoices):
        FETCHED = "fetched", "fetched from upstream"
        VIEWED = "viewed", "viewed"
        EXPORTED = "exported", "exported"
        IMPORTED = "imported", "imported"
        DELETED = "deleted", "deleted"
        LOGIN_FAILED = "login failed", "login failed"

    at = models.DateTimeField(default=timezone.now, db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    username = models.CharField(max_length=150, blank=True)
    action = models.CharField(max_length=16, choices=Action.choices, db_index=True)
    response_id = models.CharField(max_length=128, blank=True, db_index=True)
    detail = models.CharField(max_length=500, blank=True)
    remote_addr = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name_plural = "audit entries"

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.username} {self.action} {self.response_id}"


class Run(models.Model):
    """One run: the stored responses linked by previous_response_id (a chain, or a tree when
    a turn was retried), or sharing a conversation, summed up for /runs/.

    Kept by inspector/store/runs.py whenever a response is stored, updated, reviewed or
    deleted, whatever the order its turns arrive in. `key` is "conversation:<id>", or
    "chain:<id>" with the id of the chain's first turn (when it is stored) or of the
    earliest turn linked but not stored yet (`missing_id`).
    """

    class Kind(models.TextChoices):
        CHAIN = "chain", "previous_response_id"
        CONVERSATION = "conversation", "conversation"

    key = models.CharField(primary_key=True, max_length=220)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    first_id = models.CharField(max_length=128)
    last_id = models.CharField(max_length=128)
    # The earliest turn linked but not stored ("" when the chain starts with a stored turn).
    missing_id = models.CharField(max_length=128, blank=True)
    # Turns whose input items are not all stored.
    incomplete = models.PositiveIntegerField(default=0)
    first_input = models.TextField(blank=True)
    turns = models.PositiveIntegerField(default=0, db_index=True)
    # Turns no other turn continues: more than one when a turn was retried or forked.
    branches = models.PositiveIntegerField(default=1)
    # "\n"-delimited, as StoredResponse.tool_names.
    model_names = models.TextField(blank=True)
    tool_names = models.TextField(blank=True)
    last_status = models.CharField(max_length=32, blank=True)
    input_tokens = models.PositiveBigIntegerField(null=True, blank=True)
    cached_tokens = models.PositiveBigIntegerField(null=True, blank=True)
    output_tokens = models.PositiveBigIntegerField(null=True, blank=True)
    reasoning_tokens = models.PositiveBigIntegerField(null=True, blank=True)
    total_tokens = models.PositiveBigIntegerField(null=True, blank=True, db_index=True)
    cost = models.DecimalField(
        max_digits=20, decimal_places=10, null=True, blank=True, db_index=True
    )
    # Some turn has usage but no known price: the cost is a lower bound.
    cost_partial = models.BooleanField(default=False)
    errors = models.PositiveIntegerField(default=0)
    failed_calls = models.PositiveIntegerField(default=0)
    unanswered = models.PositiveIntegerField(default=0)
    problems = models.PositiveIntegerField(default=0, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    duration = models.DurationField(null=True, blank=True, db_index=True)
    approved = models.PositiveIntegerField(default=0)
    flagged = models.PositiveIntegerField(default=0)

    class Review(models.TextChoices):
        UNREVIEWED = "unreviewed", "unreviewed"
        PARTLY = "partly", "partly reviewed"
        APPROVED = "approved", "approved"
        FLAGGED = "flagged", "flagged"

    review = models.CharField(max_length=16, choices=Review.choices, default=Review.UNREVIEWED)

    class Meta:
        ordering = ["-started_at", "key"]
        indexes = [
            models.Index(fields=["-started_at", "key"], name="run_newest_first"),
            models.Index(fields=["last_status", "-started_at", "key"], name="run_by_status"),
            models.Index(fields=["review", "-started_at", "key"], name="run_by_review"),
            models.Index(
                fields=["-started_at", "key"], condition=models.Q(problems__gt=0),
                name="run_with_problems",
            ),
            models.Index(
                fields=["-started_at", "key"], condition=models.Q(turns__gt=1),
                name="run_several_turns",
            ),
        ]  # fmt: skip

    def __str__(self) -> str:
        return self.key

    @property
    def model_list(self) -> list[str]:
        return [name for name in self.model_names.split("\n") if name]

    @property
    def tool_name_list(self) -> list[str]:
        return [name for name in self.tool_names.split("\n") if name]

    @property
    def cached_share(self) -> float | None:
        if not self.input_tokens or self.cached_tokens is None:
            return None
        return self.cached_tokens / self.input_tokens

    @property
    def unfetched(self) -> bool:
        """Some of the run is not stored here yet: an earlier turn, or input items."""
        return bool(self.missing_id) or self.incomplete > 0


#: What UsageHour sums, in its columns' order.
USAGE_SUMS = ["requests", "errors", "input_tokens", "cached_tokens", "output_tokens",
              "reasoning_tokens", "cost", "unpriced"]  # fmt: skip


class UsageHour(models.Model):
    """What the stored responses created in one hour (UTC) on one model used: requests,
    errors, tokens and cost. /overview/ sums these instead of reading every response.

    Kept by database triggers on StoredResponse (migration 0019), so every path that writes
    a response (a fetch, an import's bulk INSERT, a delete, a cascade) keeps it exact.
    """

    hour = models.DateTimeField()
    model = models.CharField(max_length=200, blank=True)
    requests = models.BigIntegerField(default=0)
    errors = models.BigIntegerField(default=0)
    input_tokens = models.BigIntegerField(default=0)
    cached_tokens = models.BigIntegerField(default=0)
    output_tokens = models.BigIntegerField(default=0)
    reasoning_tokens = models.BigIntegerField(default=0)
    cost = models.DecimalField(max_digits=24, decimal_places=10, default=0)
    # Responses with usage but no known price: the cost is a lower bound.
    unpriced = models.BigIntegerField(default=0)

    class Meta:
        ordering = ["hour", "model"]
        constraints = [
            models.UniqueConstraint(fields=["hour", "model"], name="one_usage_row_per_hour")
        ]
        # A period's sums read from the index alone: a third of the time of the table.
        indexes = [models.Index(fields=["hour", "model", *USAGE_SUMS], name="usagehour_period")]

    def __str__(self) -> str:
        return f"{self.hour:%Y-%m-%d %H}h {self.model}: {self.requests}"


class ToolHour(models.Model):
    """The tool calls of the responses created in one hour (UTC), by model, tool name and
    type: how many, how many failed, had no output, or were flagged by the audit.

    Kept by database triggers on ToolCall (migration 0019), as UsageHour is on responses.
    """

    hour = models.DateTimeField()
    model = models.CharField(max_length=200, blank=True)
    name = models.CharField(max_length=200, blank=True)
    type = models.CharField(max_length=64, blank=True)
    calls = models.BigIntegerField(default=0)
    failed = models.BigIntegerField(default=0)
    unanswered = models.BigIntegerField(default=0)
    flagged = models.BigIntegerField(default=0)

    class Meta:
        ordering = ["hour", "model", "name", "type"]
        # A period's tools read from the index alone (as UsageHour's sums).
        indexes = [
            models.Index(
                fields=["hour", "name", "type", "calls", "failed", "unanswered", "flagged"],
                name="toolhour_period",
            )
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["hour", "model", "name", "type"], name="one_tool_row_per_hour"
            )
        ]

    def __str__(self) -> str:
        return f"{self.hour:%Y-%m-%d %H}h {self.name}: {self.calls}"

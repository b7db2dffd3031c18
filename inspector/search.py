"""Full-text search, the pure part: which text of an item is searched, how a query becomes
words, and each match shown in its context with the words marked (escaped, format_html).

The index over that text (SQLite FTS5, PostgreSQL tsvector + GIN) is store/search_index.py.
A word is a run of letters and digits, as both databases' tokenizers cut text (FTS5's
unicode61, PostgreSQL's 'simple' configuration), so a query means the same on both: every
word must be in the same item, in any case; the last word also as the start of a longer one,
as it is typed ("refund" finds "refunds"), when it has three letters or more. Only the last:
a word as a prefix reads the index entries of every word it starts, which for a common one
("a", "order") is most of the store, where a whole word is looked up.
"""

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any
from urllib.parse import urlencode

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from . import listing
from .schemas.content import ReasoningTextPart, SummaryTextPart
from .schemas.items import (
    ApplyPatchCallItem,
    ApplyPatchCallOutputItem,
    CodeInterpreterCallItem,
    CustomToolCallOutputItem,
    FileSearchCallItem,
    FunctionCallOutputItem,
    LocalShellCallOutputItem,
    McpCallItem,
    McpListToolsItem,
    ReasoningItem,
    ShellCallOutputItem,
    WebSearchCallItem,
)

#: Letters and digits: what both databases' tokenizers keep as a word.
WORD = re.compile(r"[^\W_]+")
#: A query keeps at most this many words, each at most this long.
MAX_WORDS = 16
MAX_WORD = 64
#: An item's text is indexed in parts of at most this many characters: PostgreSQL keeps a
#: tsvector under 1 MB, and a match's context comes from its part.
PART = 10_000
#: Characters of context either side of the first match in a result.
CONTEXT = 90
#: Results listed per page of results.
RESULTS_PAGE = 20


def words(query: str) -> list[str]:
    """The words of a query, lowercased, each once, in order (at most MAX_WORDS)."""
    found: list[str] = []
    for word in WORD.findall(query or ""):
        word = word.lower()[:MAX_WORD]
        if word not in found:
            found.append(word)
    return found[:MAX_WORDS]


#: A last word shorter than this matches whole words only (a prefix of one or two letters
#: starts most words).
PREFIX_MIN = 3


def as_prefix(words: Sequence[str], index: int) -> bool:
    """Whether word `index` of a query matches the start of longer words too."""
    return index == len(words) - 1 and len(words[index]) >= PREFIX_MIN


# --- what is searched -----------------------------------------------------------------------


def _parts_text(parts: Any) -> list[str]:
    """The text of an output given as content parts (a tool's output may be a list)."""
    if isinstance(parts, str):
        return [parts]
    texts = []
    for part in parts or []:
        text = getattr(part, "text", None)
        if isinstance(text, str):
            texts.append(text)
    return texts


def item_texts(item: Any) -> list[str]:
    """Every text of an item a person would search for: what listing.item_texts gives
    (message text, call names and arguments, commands, code, queries), plus what came back
    (tool outputs, shell output, MCP results), reasoning summaries and text, web searches,
    patches and the names of listed MCP tools."""
    texts = list(listing.item_texts(item))
    if isinstance(item, FunctionCallOutputItem | CustomToolCallOutputItem):
        texts += _parts_text(item.output)
    elif isinstance(item, McpCallItem):
        texts += [item.output or "", item.error if isinstance(item.error, str) else ""]
    elif isinstance(item, LocalShellCallOutputItem):
        texts.append(item.output)
    elif isinstance(item, ShellCallOutputItem):
        texts += [text for chunk in item.output for text in (chunk.stdout, chunk.stderr)]
    elif isinstance(item, ReasoningItem):
        texts += [p.text for p in item.summary if isinstance(p, SummaryTextPart)]
        texts += [p.text for p in item.content or [] if isinstance(p, ReasoningTextPart)]
    elif isinstance(item, WebSearchCallItem) and item.action is not None:
        action = item.action
        texts += [getattr(action, "query", None) or "", *(getattr(action, "queries", None) or [])]
        texts += [getattr(action, "url", None) or "", getattr(action, "pattern", None) or ""]
    elif isinstance(item, FileSearchCallItem):
        texts += [result.text or "" for result in item.results or []]
    elif isinstance(item, CodeInterpreterCallItem):
        texts += [output.logs or "" for output in item.outputs or []]
    elif isinstance(item, ApplyPatchCallItem) and item.operation is not None:
        op = item.operation
        texts += [getattr(op, "path", None) or "", getattr(op, "diff", None) or ""]
    elif isinstance(item, ApplyPatchCallOutputItem):
        texts.append(item.output or "")
    elif isinstance(item, McpListToolsItem):
        texts += [f"{tool.name} {tool.description or ''}" for tool in item.tools]
    return [text for text in texts if isinstance(text, str) and text.strip()]


def parts(texts: Iterable[str]) -> list[str]:
    """The texts joined and cut into parts of at most PART characters, at a space when
    there is one near the cut, so a word is never split."""
    text = "\n".join(texts)
    out: list[str] = []
    while len(text) > PART:
        cut = text.rfind(" ", PART // 2, PART)
        cut = cut if cut > 0 else PART
        out.append(text[:cut])
        text = text[cut:]
    if text.strip():
        out.append(text)
    return out


# --- a match in its context -----------------------------------------------------------------


def _pattern(found: Sequence[str]) -> re.Pattern[str]:
    # A word between non-letters-or-digits; the prefix word need not end where it does.
    ends = {word: "" if as_prefix(found, i) else r"(?![^\W_])" for i, word in enumerate(found)}
    alternatives = "|".join(
        re.escape(word) + ends[word] for word in sorted(found, key=len, reverse=True)
    )
    return re.compile(rf"(?<![^\W_])(?:{alternatives})", re.IGNORECASE)


def snippet(text: str, found: Sequence[str], context: int = CONTEXT) -> SafeString:
    """The text around its first match, every match in it marked; escaped throughout.

    Without a match in the text (the database's tokenizer cut a word where this one did
    not), the start of the text."""
    if not found:
        return format_html("{}", text[: 2 * context])
    pattern = _pattern(found)
    first = pattern.search(text)
    start = max(0, first.start() - context) if first else 0
    end = min(len(text), (first.end() if first else 0) + context)
    if start > 0 and (space := text.find(" ", start, start + 20)) != -1:
        start = space + 1
    if end < len(text) and (space := text.rfind(" ", end - 20, end)) != -1:
        end = space
    window = text[start:end]
    pieces: list[tuple[str, str]] = []
    at = 0
    for match in pattern.finditer(window):
        pieces.append((window[at : match.start()], match.group(0)))
        at = match.end()
    pieces.append((window[at:], ""))
    marked = format_html_join(
        "",
        "{}{}",
        ((plain, format_html("<mark>{}</mark>", hit) if hit else "") for plain, hit in pieces),
    )
    return format_html("{}{}{}", "… " if start > 0 else "", marked, " …" if end < len(text) else "")


# --- results, as the pages list them ---------------------------------------------------------


@dataclass(frozen=True)
class Hit:
    """One matching item (its first matching part), where it is and how to reach it."""

    response_id: str
    section: str
    position: int
    anchor: str
    #: The page of input items (store.INPUT_PAGE_SIZE a page) it is on; 1 for the others.
    page: int = 1
    #: The turn of a trace it is in (1 is the first), or 0 on a response's own search.
    turn: int = 0
    #: Its index row, whose text shows the match (read for the results a page lists).
    row: int = 0
    text: str = ""

    @property
    def label(self) -> str:
        if self.anchor == "instructions":
            return "instructions"
        noun = {"input": "input item", "output": "output item", "instructions": "instruction"}
        return f"{noun.get(self.section, self.section)} {self.position + 1:,}"


@dataclass
class Results:
    """The matches of a query inside a response or a trace, one page of them in context."""

    query: str
    words: list[str]
    hits: list[Hit]
    #: Reads the texts of the hits a page lists (store.search_texts).
    load: Callable[[Sequence[Hit]], list[Hit]]
    #: A response's page URL, from its id (URLs are built where the request is).
    item_page: Callable[[str], str]
    #: The page searched (a response's or a trace's) and its results fragment (htmx).
    page_url: str
    fragment_url: str
    #: Searched across a trace's turns: each result opens on its own turn's response page.
    trace: bool = False
    number: int = 1
    #: The matching item the page was opened at (1-based), or 0.
    current: int = 0

    @property
    def total(self) -> int:
        return len(self.hits)

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // RESULTS_PAGE))

    @property
    def first(self) -> int:
        return (self.number - 1) * RESULTS_PAGE

    @cached_property
    def shown(self) -> list[tuple[int, Hit, SafeString, str]]:
        """(1-based number, hit, its context marked, its URL) of this page's results."""
        page = self.load(self.hits[self.first : self.first + RESULTS_PAGE])
        return [
            (self.first + i + 1, hit, snippet(hit.text, self.words), self.url(self.first + i))
            for i, hit in enumerate(page)
        ]

    def url(self, index: int) -> str:
        """The item of result `index` (0-based) on its response page: the right page of input
        items, the query, the result's number (for next / previous), and its anchor."""
        hit = self.hits[index]
        page = self.item_page(hit.response_id)
        query: dict[str, Any] = {"q": self.query}
        if not self.trace:  # on a turn's own page, its own results are numbered
            query["hit"] = index + 1
        if hit.section == "input" and hit.page > 1:
            query = {"page": hit.page, **query}
        return f"{page}?{urlencode(query)}#{hit.anchor}"

    def _results(self, number: int, base: str, anchor: str = "") -> str:
        return f"{base}?{urlencode({'q': self.query, 'results': number})}{anchor}"

    @property
    def previous_page(self) -> tuple[str, str]:
        """(page URL, fragment URL) of the previous page of results, or empty strings."""
        number = self.number - 1
        if number < 1:
            return "", ""
        return self._results(number, self.page_url, "#search"), self._results(
            number, self.fragment_url
        )

    @property
    def next_page(self) -> tuple[str, str]:
        number = self.number + 1
        if number > self.pages:
            return "", ""
        return self._results(number, self.page_url, "#search"), self._results(
            number, self.fragment_url
        )

    @property
    def previous_hit(self) -> str:
        return self.url(self.current - 2) if 1 < self.current <= self.total else ""

    @property
    def next_hit(self) -> str:
        return self.url(self.current) if 0 < self.current < self.total else ""


def number(value: Any, default: int = 1) -> int:
    """A positive page or result number from a query string, else `default`."""
    try:
        return max(1, int(value))
    except (TypeError, ValueError):
        return default


def results(
    query: str,
    hits: list[Hit],
    load: Callable[[Sequence[Hit]], list[Hit]],
    item_page: Callable[[str], str],
    page_url: str,
    fragment_url: str,
    *,
    page: Any = None,
    current: Any = None,
    trace: bool = False,
) -> Results:
    """The results of `query`, on results page `page`, else on that of result `current`."""
    found = Results(query, words(query), hits, load, item_page, page_url, fragment_url, trace)
    found.current = min(number(current, 0), found.total) if current else 0
    if page:
        wanted = number(page)
    else:
        wanted = (found.current - 1) // RESULTS_PAGE + 1 if found.current else 1
    found.number = min(wanted, found.pages)
    return found

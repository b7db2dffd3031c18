"""Safe Markdown and code highlighting for text that came from a model (all of it hostile).

Markdown: markdown-it-py with raw HTML off renders the text, then nh3 keeps only an allow-list
of tags, attributes and classes. Links survive only as http(s) or mailto, with
rel="noopener noreferrer nofollow"; Markdown images become links (a page never loads a remote
image by itself). The sanitizer's output is the one string marked safe here, because nh3 has
just removed everything that is not on the allow-list.

Highlighting: Pygments tokens, each escaped and wrapped by format_html in a span with a
Pygments short class name (static/pygments.css colours them in light and dark). No inline
styles: the CSP forbids them.
"""

from functools import lru_cache
from html import escape as html_escape
from typing import Any

import nh3
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import SafeString, mark_safe
from markdown_it import MarkdownIt
from pygments.formatters import HtmlFormatter
from pygments.lexer import Lexer
from pygments.lexers import get_lexer_by_name
from pygments.token import STANDARD_TYPES, _TokenType
from pygments.util import ClassNotFound

#: Code longer than this is escaped but not highlighted (tokenising costs time, not safety).
HIGHLIGHT_MAX = 200_000

LINK_SCHEMES = ("http://", "https://", "mailto:")
LINK_REL = "noopener noreferrer nofollow"
TOKEN_CLASSES = frozenset(c for c in STANDARD_TYPES.values() if c)

TAGS = {
    "a", "p", "br", "hr", "em", "strong", "s", "del", "code", "pre", "span", "div",
    "blockquote", "ul", "ol", "li", "h1", "h2", "h3", "h4", "h5", "h6",
    "table", "thead", "tbody", "tr", "th", "td",
}  # fmt: skip
# `class` is left out here: nh3 allows it through CLASSES below, per tag and per class name.
# Table alignment (style="text-align:…") is dropped: the CSP would block it anyway.
ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}}
CLASSES = {
    "span": set(TOKEN_CLASSES),
    "pre": {"highlight"},
    "a": {"md-image"},
}


def _keep_attribute(tag: str, attribute: str, value: str) -> str | None:
    if tag == "a" and attribute == "href":
        # Only absolute http(s) and mailto: no javascript:, data:, relative or fragment links.
        return value if value.lower().startswith(LINK_SCHEMES) else None
    return value


_CLEANER = nh3.Cleaner(
    tags=TAGS,
    attributes=ATTRIBUTES,
    attribute_filter=_keep_attribute,
    url_schemes={"http", "https", "mailto"},
    link_rel=LINK_REL,
    allowed_classes=CLASSES,
    clean_content_tags={"script", "style"},
    strip_comments=True,
)


@lru_cache(maxsize=64)
def _lexer(language: str) -> Lexer | None:
    try:
        return get_lexer_by_name(language, stripnl=False, ensurenl=False)
    except ClassNotFound:
        return None


def token_class(ttype: _TokenType) -> str:
    """The Pygments short class of a token type, walking up to the nearest standard one."""
    while ttype not in STANDARD_TYPES and ttype.parent is not None:
        ttype = ttype.parent
    return str(STANDARD_TYPES.get(ttype, ""))


def _segments(code: str, lexer: Lexer) -> list[tuple[str, str]]:
    merged: list[tuple[str, str]] = []
    for ttype, value in lexer.get_tokens(code):
        css = token_class(ttype)
        if merged and merged[-1][0] == css:
            merged[-1] = (css, merged[-1][1] + value)
        else:
            merged.append((css, value))
    return merged


def highlight(code: str, language: str) -> SafeString:
    """`code` escaped, its tokens in classed spans; plain escaped text for unknown languages."""
    lexer = _lexer(language) if language else None
    if lexer is None or len(code) > HIGHLIGHT_MAX:
        return conditional_escape(code)
    segments = _segments(code, lexer)
    if not segments:
        return conditional_escape(code)
    # One format_html for the whole block: the format holds only Pygments' class names (no
    # braces), each token is an argument and escaped. A format_html per token cost five times
    # as much, a quarter of a long response page (docs/benchmarks.md).
    template = "".join(f'<span class="{css}">{{}}</span>' if css else "{}" for css, _ in segments)
    return format_html(template, *(value for _, value in segments))


def _fence(code: str, language: str, attrs: Any) -> str:
    """markdown-it's highlight hook: a full <pre> (nh3 checks it like everything else)."""
    name = (language or "").split()[0] if language else ""
    if not name or _lexer(name) is None:
        return ""
    return str(format_html('<pre class="highlight"><code>{}</code></pre>', highlight(code, name)))


def _image(self: Any, tokens: Any, idx: int, options: Any, env: Any) -> str:
    """Markdown images become links labelled with their alt text; nothing loads by itself."""
    token = tokens[idx]
    alt = self.renderInlineAsText(token.children or [], options, env) or "image"
    src = token.attrGet("src") or ""
    return f'<a class="md-image" href="{html_escape(str(src))}">[image: {html_escape(alt)}]</a>'


def _parser() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "highlight": _fence})
    md.enable(["table", "strikethrough"])
    md.add_render_rule("image", _image)
    return md


_MD = _parser()


def render_markdown(text: str) -> SafeString:
    """`text` as sanitized HTML (see the module docstring for what survives)."""
    html = _MD.render(text or "")
    # nh3 has just removed every tag, attribute, class and URL not on the allow-list above.
    return mark_safe(_CLEANER.clean(html))  # noqa: S308


def pygments_css(light: str = "default", dark: str = "github-dark") -> str:
    """static/pygments.css: token colours for the light theme and the dark one.

    Dark applies when the page says data-theme="dark", or when the system prefers dark and
    the page does not say "light" (the same rule as static/inspector.css).
    """

    def rules(style: str, prefix: str) -> list[str]:
        defs = HtmlFormatter(style=style).get_style_defs(prefix)
        return [
            line
            for line in defs.splitlines()
            # Keep token colours only; the block background comes from inspector.css.
            if line.startswith(prefix + " .") and not line.startswith(prefix + " .hll")
        ]

    dark_rules = rules(dark, ':root[data-theme="dark"] .highlight')
    media_rules = rules(dark, ':root:not([data-theme="light"]) .highlight')
    return "\n".join(
        [
            "/* Generated by inspector.markdown.pygments_css(); tests check it is current. */",
            f"/* Light: Pygments style {light!r}. */",
            *rules(light, ".highlight"),
            f"/* Dark: Pygments style {dark!r}, chosen by the toggle or by the system. */",
            *dark_rules,
            "@media (prefers-color-scheme: dark) {",
            *("  " + line for line in media_rules),
            "}",
            "",
        ]
    )

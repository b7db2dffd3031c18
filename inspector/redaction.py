"""Secrets in exports: the rules that find them and the redaction that replaces them.

Tool arguments, MCP tool definitions (`authorization`, `headers`) and outputs often carry
credentials the model was given or echoed. Exports (bundle JSON, trace JSON, events JSON,
Markdown, `export_responses`) pass through `redact` unless the user asks for the raw data and
may have it. Two kinds of rule, both listed in the README:

- `RULES`: patterns of well-known credential formats, found anywhere in any string;
- `SECRET_FIELDS` / `SECRET_SUFFIXES`: object keys (any case) whose string value is a secret
  whatever it looks like, in parsed JSON and in JSON held inside a string (tool arguments);
  and the `value` of each of a shell container's `domain_secrets`.

A pattern never fires inside a blob (`inside_blob`): encrypted reasoning, compaction items and
base64 images are long runs of base64 characters in which a run like `-sk-…` now and then
occurs by chance; replacing it would corrupt the blob and redact nothing.

`mask` is separate: it removes one known secret (the configured API key) from data the
store is about to keep, so an upstream that echoes the key never gets it stored.
Pure functions.
"""

import functools
import json
import re
from collections import Counter
from dataclasses import dataclass
from typing import Any

#: What a redacted secret becomes: `[REDACTED:<rule>]`.
PLACEHOLDER = "[REDACTED:{}]"
#: What the configured API key becomes wherever the store finds it.
KEY_MASK = "[OPENAI_API_KEY]"


@dataclass(frozen=True)
class Rule:
    name: str
    pattern: re.Pattern[str]
    what: str
    #: The pattern's group to replace (0: the whole match).
    group: int = 0


RULES: tuple[Rule, ...] = (
    Rule(
        "private-key",
        re.compile(
            r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?(?:-----END [A-Z ]*PRIVATE KEY-----|\Z)", re.S
        ),
        "PEM private key blocks",
    ),
    Rule(
        "bearer",
        # A credential has a digit or a symbol: "bearer instruments" is left alone.
        re.compile(r"\b(?:Bearer|Basic)\s+((?=[\w.~+/=-]*[\d.~+/=-])[\w.~+/=-]{12,})", re.I),
        "the credential after `Bearer` or `Basic` (Authorization headers), 12+ characters",
        group=1,
    ),
    Rule(
        "anthropic-key",
        re.compile(r"\bsk-ant-[A-Za-z0-9_-]{16,}"),
        "Anthropic API keys (`sk-ant-…`)",
    ),
    Rule(
        "openai-key",
        re.compile(r"\bsk-(?:proj-|svcacct-|admin-|None-)?[A-Za-z0-9_-]{16,}"),
        "OpenAI API keys (`sk-…`, `sk-proj-…`, `sk-svcacct-…`, `sk-admin-…`)",
    ),
    Rule(
        "github-token",
        re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{30,})"),
        "GitHub tokens (`ghp_`, `gho_`, `ghu_`, `ghs_`, `ghr_`, `github_pat_`)",
    ),
    Rule(
        "aws-access-key",
        re.compile(r"\b(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}\b"),
        "AWS access key ids (`AKIA…`, `ASIA…`)",
    ),
    Rule(
        "aws-secret",
        re.compile(
            r"(?i)(aws_?secret_?(?:access_?)?key[\"']?\s*[:=]\s*[\"']?)([A-Za-z0-9/+=]{40})"
        ),
        "AWS secret access keys written after their name",
        group=2,
    ),
    Rule(
        "stripe-key",
        re.compile(r"\b(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{16,}"),
        "Stripe secret and restricted keys",
    ),
    Rule(
        "slack-token",
        re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}"),
        "Slack tokens (`xoxb-…`, `xoxp-…`)",
    ),
    Rule(
        "google-api-key",
        re.compile(r"\bAIza[0-9A-Za-z_-]{35}\b"),
        "Google API keys (`AIza…`)",
    ),
    Rule(
        "jwt",
        re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"),
        "JSON Web Tokens (`eyJ….eyJ….…`)",
    ),
)

#: Keys whose string value is a secret, compared lowercased ("-" and "_" alike).
SECRET_FIELDS = frozenset(
    {
        "authorization", "proxy_authorization", "cookie", "set_cookie", "password", "passwd",
        "secret", "client_secret", "api_key", "apikey", "x_api_key", "access_token",
        "refresh_token", "id_token", "auth_token", "session_token", "private_key",
        "secret_key", "aws_secret_access_key", "x_auth_token", "bearer_token",
    }
)  # fmt: skip
SECRET_SUFFIXES = ("_secret", "_password", "_api_key", "_apikey", "_access_token", "_auth_token")

FIELD = "secret-field"
# "key": "value" inside JSON text (tool arguments are a JSON string, spec §7.1).
_FIELD_IN_TEXT = re.compile(r'"([A-Za-z0-9_-]{2,64})"(\s*:\s*)"((?:[^"\\]|\\.)*)"')


#: Base64 and base64url characters: what encrypted content, images and files are made of.
_BLOB_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=_-")
#: A match is inside a blob when at least BLOB_AROUND base64 characters come right before it;
#: or BLOB_SIDE on each side and BLOB_AROUND around it in all (standard base64, whose `+`
#: and `/` end a match); or it is itself a run of base64 characters of KEY_MAX or more
#: (base64url has neither, so a match runs on to the blob's end). A credential in text has
#: a quote, a space, a dot or a line end near it: `OPENAI_API_KEY=sk-…` has 15 before it,
#: and no credential these rules find is KEY_MAX characters of base64 alone.
BLOB_SIDE = 16
BLOB_AROUND = 128
KEY_MAX = 256


def _run(text: str, index: int, step: int, limit: int) -> int:
    """How many base64 characters follow `index` in the direction `step` (up to `limit`)."""
    count = 0
    while count < limit and 0 <= index + step * count < len(text):
        if text[index + step * count] not in _BLOB_CHARS:
            break
        count += 1
    return count


def inside_blob(text: str, start: int, end: int) -> bool:
    """Whether `text[start:end]` sits inside a longer run of base64 characters (a blob)."""
    before = _run(text, start - 1, -1, BLOB_AROUND)
    if before >= BLOB_AROUND:
        return True
    after = _run(text, end, 1, BLOB_AROUND)
    if min(before, after) >= BLOB_SIDE and before + after >= BLOB_AROUND:
        return True
    return end - start >= KEY_MAX and _run(text, start, 1, KEY_MAX) >= KEY_MAX


def secret_field(name: str) -> bool:
    key = name.strip().lower().replace("-", "_")
    return key in SECRET_FIELDS or key.endswith(SECRET_SUFFIXES)


def redact_text(text: str, counts: Counter[str] | None = None) -> tuple[str, Counter[str]]:
    """`text` with every secret the rules find replaced; how many of each rule."""
    counts = counts if counts is not None else Counter()

    def field(match: re.Match[str]) -> str:
        if not secret_field(match.group(1)) or not match.group(3):
            return match.group(0)
        counts[FIELD] += 1
        return f'"{match.group(1)}"{match.group(2)}"{PLACEHOLDER.format(FIELD)}"'

    if '"' in text:
        text = _FIELD_IN_TEXT.sub(field, text)
    for rule in RULES:

        def replace(match: re.Match[str], rule: Rule = rule) -> str:
            if inside_blob(match.string, match.start(), match.end()):
                return match.group(0)
            counts[rule.name] += 1
            whole, start = match.group(0), match.start(rule.group) - match.start()
            end = match.end(rule.group) - match.start()
            return whole[:start] + PLACEHOLDER.format(rule.name) + whole[end:]

        text = rule.pattern.sub(replace, text)
    return text, counts


def redact(value: Any, counts: Counter[str] | None = None) -> tuple[Any, Counter[str]]:
    """A copy of `value` (parsed JSON) with its secrets replaced; how many of each rule."""
    counts = counts if counts is not None else Counter()
    if isinstance(value, str):
        return redact_text(value, counts)[0], counts
    if isinstance(value, dict):
        out: dict[Any, Any] = {}
        for key, inner in value.items():
            if isinstance(key, str) and isinstance(inner, str) and inner and secret_field(key):
                counts[FIELD] += 1
                out[key] = PLACEHOLDER.format(FIELD)
            elif key == "domain_secrets" and isinstance(inner, list):
                out[key] = [_domain_secret(entry, counts) for entry in inner]
            else:
                out[key] = redact(inner, counts)[0]
        return out, counts
    if isinstance(value, list):
        return [redact(inner, counts)[0] for inner in value], counts
    return value, counts


def _domain_secret(entry: Any, counts: Counter[str]) -> Any:
    """One of a container's domain_secrets: its `value` is the secret (the name is not)."""
    entry = redact(entry, counts)[0]
    if isinstance(entry, dict) and isinstance(entry.get("value"), str) and entry["value"]:
        counts[FIELD] += 1
        return {**entry, "value": PLACEHOLDER.format(FIELD)}
    return entry


def redact_export(export: dict[str, Any]) -> dict[str, Any]:
    """An export (bundle, trace, events) redacted, saying what was: `"redacted": {rule: n}`."""
    redacted, counts = redact(export)
    return {**redacted, "redacted": dict(counts.most_common())}


def redact_markdown(text: str) -> str:
    """A Markdown transcript redacted, with a last line saying what was, if anything."""
    redacted, counts = redact_text(text)
    if not counts:
        return redacted
    return f"{redacted.rstrip()}\n\n---\n\nSecrets redacted: {summary(counts)}.\n"


def summary(counts: Counter[str]) -> str:
    """ "2 openai-key, 1 bearer" (most first), or "" when nothing was redacted."""
    return ", ".join(f"{n} {name}" for name, n in counts.most_common())


def mask(value: Any, secret: str) -> Any:
    """`value` (parsed JSON) with every occurrence of `secret` replaced by KEY_MASK; the
    value itself (not a copy) when it holds none."""
    if not secret:
        return value
    if isinstance(value, str):
        return value.replace(secret, KEY_MASK) if secret in value else value
    if isinstance(value, dict):
        pairs = [(mask(k, secret), mask(v, secret)) for k, v in value.items()]
        same = all(a is k and b is v for (a, b), (k, v) in zip(pairs, value.items(), strict=True))
        return value if same else dict(pairs)
    if isinstance(value, list):
        inner = [mask(v, secret) for v in value]
        return value if all(a is b for a, b in zip(inner, value, strict=True)) else inner
    return value


def clip(text: str, limit: int, secret: str) -> str:
    """`text` with `secret` masked, then cut to `limit` characters: masked first, so a secret
    across the cut never leaves its first part behind (issue 13, finding 4)."""
    if secret and secret in text:
        text = text.replace(secret, KEY_MASK)
    return text[:limit]


@functools.lru_cache(maxsize=8)
def _escaped(secret: str) -> str:
    return json.dumps(secret)[1:-1]


def may_hold(json_text: str, secret: str) -> bool:
    """Whether JSON text written by `json.dumps` may hold `secret` in one of its strings (or
    across two: then `mask` finds none). The dump escapes character by character, so a
    string holding the secret holds the secret's escaped form (written once per secret: the
    store asks for every body and item)."""
    return bool(secret) and _escaped(secret) in json_text


def rules_table() -> list[tuple[str, str]]:
    """(rule name, what it finds): the README's table of rules, row for row (a test holds
    the two the same)."""
    fields = ", ".join(f"`{name}`" for name in sorted(SECRET_FIELDS))
    suffixes = ", ".join(f"`…{suffix}`" for suffix in SECRET_SUFFIXES)
    return [
        *((rule.name, rule.what) for rule in RULES),
        (
            FIELD,
            f"the string value of any key named {fields}, or ending {suffixes}; the `value` "
            "of a shell container's `domain_secrets`",
        ),
    ]

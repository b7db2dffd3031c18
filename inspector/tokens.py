"""Local token counting with tiktoken, and the offline installation of its encoding files.

Counting is pure functions over schemas: text exactly, with the model's encoding; framing,
tool calls, function definitions, response formats and images as estimates that carry their
rule (published, or learned from real Responses API bills: docs/token-counting.md, each rule
with its evidence); and "needs the API count" where nothing local is sound (hosted tools,
earlier turns, encrypted items, files, images by id or remote URL). How close the count has
come to real bills, by kind of request, is at the end (EVIDENCE).

tiktoken downloads its BPE files on first use; this dashboard never lets it. The files are
installed into settings.TIKTOKEN_CACHE_DIR (named as tiktoken's own cache names them: the sha1
of the download URL) from a local copy, verified against tiktoken's own sha256.
"""

import base64
import binascii
import gzip
import hashlib
import json
import math
import os
import re
import struct
import urllib.parse
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from importlib import resources
from pathlib import Path
from typing import Any

from django.conf import settings

from .schemas import ITEM_TYPES, InputTokensRequest
from .schemas.content import (
    ComputerScreenshotPart,
    InputFilePart,
    InputImagePart,
    InputTextPart,
    OutputTextPart,
    ReasoningTextPart,
    RefusalPart,
    SummaryTextPart,
)
from .schemas.items import (
    CompactionItem,
    ComputerCallOutputItem,
    CustomToolCallItem,
    CustomToolCallOutputItem,
    FunctionCallItem,
    FunctionCallOutputItem,
    ImageGenerationCallItem,
    ItemReferenceItem,
    MessageItem,
    ReasoningItem,
)
from .schemas.tools import CustomTool, FunctionTool

BLOB_URL = "https://openaipublic.blob.core.windows.net/encodings/{name}.tiktoken"

#: tiktoken's `expected_hash` for each file (tiktoken_ext/openai_public.py, 0.7 to 0.14).
EXPECTED_SHA256 = {
    "o200k_base": "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d",
    "cl100k_base": "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7",
}


class EncodingUnavailable(Exception):
    """The encoding's file is not installed; the message says how to install it."""


def cache_path(name: str, cache_dir: Path | None = None) -> Path:
    url = BLOB_URL.format(name=name)
    return Path(cache_dir or settings.TIKTOKEN_CACHE_DIR) / hashlib.sha1(url.encode()).hexdigest()  # noqa: S324 - tiktoken's cache naming


def _packaged(name: str) -> bytes | None:
    """The file as shipped gzipped inside the bpe-openai wheel (a dependency), if present."""
    try:
        ref = resources.files("bpe_openai") / "data" / f"{name}.tiktoken.gz"
        return gzip.decompress(ref.read_bytes())
    except (ModuleNotFoundError, FileNotFoundError, OSError):
        return None


@dataclass
class Installed:
    name: str
    path: Path
    source: str


def install_encoding_files(
    source_dir: Path | None = None, cache_dir: Path | None = None
) -> list[Installed]:
    """Install every encoding file, verified by sha256, from `source_dir` or bpe-openai.

    Raises EncodingUnavailable if a file cannot be found or does not match its hash.
    """
    target_dir = Path(cache_dir or settings.TIKTOKEN_CACHE_DIR)
    target_dir.mkdir(parents=True, exist_ok=True)
    done = []
    for name, expected in EXPECTED_SHA256.items():
        target = cache_path(name, target_dir)
        if target.exists() and hashlib.sha256(target.read_bytes()).hexdigest() == expected:
            done.append(Installed(name, target, "already installed"))
            continue
        if source_dir is not None:
            path = Path(source_dir) / f"{name}.tiktoken"
            data, origin = (path.read_bytes() if path.exists() else None), str(path)
        else:
            data, origin = _packaged(name), "the bpe-openai package"
        if data is None:
            raise EncodingUnavailable(f"{name}.tiktoken was not found in {origin}.")
        if hashlib.sha256(data).hexdigest() != expected:
            raise EncodingUnavailable(
                f"{name}.tiktoken from {origin} does not match tiktoken's sha256 {expected}."
            )
        temporary = target.with_suffix(".tmp")
        temporary.write_bytes(data)
        os.replace(temporary, target)
        done.append(Installed(name, target, origin))
    return done


def encoding_available(name: str) -> bool:
    return cache_path(name).exists()


_encodings: dict[str, Any] = {}


def get_encoding(name: str) -> Any:
    """A tiktoken Encoding, loaded only from the local cache (never from the network)."""
    if name in _encodings:
        return _encodings[name]
    if not encoding_available(name):
        raise EncodingUnavailable(
            f"Local counting is unavailable: the {name} encoding file is not installed in "
            f"{settings.TIKTOKEN_CACHE_DIR}. Run `manage.py install_tokenizers` (it copies the "
            "file from the bpe-openai package, or from --from DIR, and checks its sha256)."
        )
    # tiktoken reads its cache folder from this variable when it loads an encoding.
    os.environ["TIKTOKEN_CACHE_DIR"] = str(settings.TIKTOKEN_CACHE_DIR)
    import tiktoken

    _encodings[name] = tiktoken.get_encoding(name)
    return _encodings[name]


# --- counting: pure functions over schemas ----------------------------------------------
#
# Text is counted exactly with the model's encoding. Everything tiktoken cannot know is an
# estimate that carries its rule (Part.rule), or None where only the API can count it.

FALLBACK_ENCODING = "o200k_base"

#: OpenAI Cookbook, "How to count tokens with tiktoken" (num_tokens_from_messages).
COOKBOOK = "OpenAI Cookbook, “How to count tokens with tiktoken”"
TOKENS_PER_MESSAGE = 3
TOKENS_PER_NAME = 1
REPLY_PRIMING = 3
MESSAGE_RULE = (
    f"{COOKBOOK}: every message costs {TOKENS_PER_MESSAGE} tokens plus its role, and “every "
    f"reply is primed with <|start|>assistant<|message|>” ({REPLY_PRIMING} tokens)."
)


@dataclass(frozen=True)
class FunctionConstants:
    """The cookbook's num_tokens_for_tools constants for one family of models."""

    family: str
    func_init: int
    prop_init: int = 3
    prop_key: int = 3
    enum_init: int = -3
    enum_item: int = 3
    func_end: int = 12
    source: str = f"{COOKBOOK}, num_tokens_for_tools"


#: gpt-4o / gpt-4o-mini (o200k_base models) and gpt-4 / gpt-3.5-turbo (cl100k_base models).
FUNCTIONS_O200K = FunctionConstants("gpt-4o, gpt-4o-mini", func_init=7)
FUNCTIONS_CL100K = FunctionConstants("gpt-4, gpt-3.5-turbo", func_init=10)

#: What the Responses API bills (docs/token-counting.md): the cookbook's structure, with the
#: constants its Chat Completions totals do not fix refitted to real bills. gpt-4o and
#: gpt-4.1 open the properties for 2, not 3, a property costs 1 beyond its text, not 3, and
#: the list ends in 8, not 12; reasoning models (their own chat format) end it in 13.
LEARNED = "The cookbook's rule with its constants refitted to real Responses API bills"
RESPONSES_CHAT = FunctionConstants(
    "gpt-4o, gpt-4.1", func_init=7, prop_init=2, prop_key=1, func_end=8, source=LEARNED
)
RESPONSES_REASONING = FunctionConstants(
    "reasoning models (gpt-5, o-series)",
    func_init=7,
    prop_init=2,
    prop_key=1,
    func_end=13,
    source=LEARNED,
)


CALL_RULE = (
    "Learned from real Responses API bills (docs/token-counting.md): a function call is an "
    "assistant turn addressed to the function (“assistant to=functions.NAME”, 3 tokens of "
    "framing), its output a turn of the function (“functions.NAME”, 3 more). Reasoning models "
    "read the harmony format: the call is “assistant<|channel|>commentary to=functions.NAME "
    "<|constrain|>json”, the output “functions.NAME to=assistant<|channel|>commentary”, an "
    "assistant message carries “<|channel|>final” (2 more), and the reply is primed with 2 "
    "tokens, not 3."
)
SCHEMA_RULE = (
    "Learned from real Responses API bills (docs/token-counting.md): a json_schema text format "
    "costs “# Response Formats”, “## NAME” and the schema as compact JSON, plus 1; a strict "
    "schema is billed without the additionalProperties and required keys strict mode implies."
)
EVIDENCE_RULE = (
    "bench/token_accuracy.py counts every real request whose bill is known "
    "(../shared/real-world/input-tokens.jsonl) and groups them by kind; the page quotes the "
    "group of this request. Bills from before April 2025 are left out: the API counted the "
    "same requests differently then."
)


def reasoning_format(model: str) -> bool:
    """Models that read their input in OpenAI's harmony chat format (gpt-5, the o-series,
    computer-use): their reply is primed with 2 tokens, not 3, and an assistant turn in the
    input carries its channel (docs/token-counting.md)."""
    name = model.rsplit("/", 1)[-1]
    return name.startswith(("o1", "o3", "o4", "gpt-5", "computer-use", "codex")) and (
        "-chat" not in name
    )


def function_rule(constants: FunctionConstants) -> str:
    c = constants
    return (
        f"{c.source} for {c.family}: {c.func_init} per function, "
        f"“name:description” as text, {c.prop_init} to open the properties, {c.prop_key} per "
        f"property with “name:type:description” as text, {c.enum_item} per enum value plus its "
        f"text ({c.enum_init} once per enum), {c.func_end} after the last function."
    )


VISION_GUIDE = "OpenAI, “Images and vision > Calculating costs”"
TILE_RULE = (
    f'{VISION_GUIDE}: “Any image with "detail": "low" costs a set, base number of tokens… '
    "Scale to fit in a 2048px x 2048px square, maintaining original aspect ratio; scale so "
    "that the image's shortest side is 768px long; count the number of 512px squares in the "
    "image—each square costs a set amount of tokens; add the base tokens to the total.”"
)
PATCH_RULE = (
    f"{VISION_GUIDE}: “Calculate the number of 32px x 32px patches that are needed to fully "
    "cover the image… If the number of patches exceeds 1536, we scale down the image so that "
    "it can be covered by no more than 1536 patches… The token cost is the number of "
    "patches, capped at a maximum of 1536 tokens… Apply a multiplier based on the model.”"
)


@dataclass(frozen=True)
class TileRule:
    models: str
    base: int
    tile: int


@dataclass(frozen=True)
class PatchRule:
    models: str
    multiplier: Decimal
    budget: int = 1536


#: (model-name prefix, rule); the first prefix that matches wins, so longer ones come first.
IMAGE_RULES: tuple[tuple[str, TileRule | PatchRule], ...] = (
    ("gpt-4.1-mini", PatchRule("gpt-4.1-mini", Decimal("1.62"))),
    ("gpt-4.1-nano", PatchRule("gpt-4.1-nano", Decimal("2.46"))),
    ("gpt-5-mini", PatchRule("gpt-5-mini", Decimal("1.62"))),
    ("gpt-5-nano", PatchRule("gpt-5-nano", Decimal("2.46"))),
    ("o4-mini", PatchRule("o4-mini", Decimal("1.72"))),
    ("gpt-4o-mini", TileRule("4o-mini", 2833, 5667)),
    ("gpt-5", TileRule("gpt-5, gpt-5-chat-latest", 70, 140)),
    ("gpt-4o", TileRule("4o, 4.1, 4.5", 85, 170)),
    ("chatgpt-4o", TileRule("4o, 4.1, 4.5", 85, 170)),
    ("gpt-4.1", TileRule("4o, 4.1, 4.5", 85, 170)),
    ("gpt-4.5", TileRule("4o, 4.1, 4.5", 85, 170)),
    ("o1", TileRule("o1, o1-pro, o3", 75, 150)),
    ("o3", TileRule("o1, o1-pro, o3", 75, 150)),
    ("computer-use-preview", TileRule("computer-use-preview", 65, 129)),
)
DEFAULT_IMAGE_RULE = TileRule("4o, 4.1, 4.5", 85, 170)


@dataclass(frozen=True)
class EncodingChoice:
    name: str
    #: tiktoken does not know the model, so FALLBACK_ENCODING is used (said on the page).
    fallback: bool


def encoding_for_model(model: str) -> EncodingChoice:
    import tiktoken.model  # a table of names: importing it downloads nothing

    try:
        return EncodingChoice(tiktoken.model.encoding_name_for_model(model), False)
    except KeyError:
        return EncodingChoice(FALLBACK_ENCODING, True)


def count_text(encoding: Any, text: str) -> int:
    """The exact number of tokens of `text` (special-token strings count as plain text)."""
    return len(encoding.encode_ordinary(text))


@dataclass(frozen=True)
class Piece:
    """One or more tokens whose bytes decode together (a multi-byte character kept whole)."""

    text: str
    ids: tuple[int, ...]


def token_pieces(encoding: Any, text: str, limit: int | None = None) -> list[Piece]:
    """`text` split into its tokens, grouping tokens whose bytes do not decode alone."""
    ids = encoding.encode_ordinary(text)
    if limit is not None:
        ids = ids[:limit]
    pieces: list[Piece] = []
    buffer, group = b"", []
    for token in ids:
        buffer += encoding.decode_single_token_bytes(token)
        group.append(token)
        try:
            decoded = buffer.decode("utf-8")
        except UnicodeDecodeError:
            continue
        pieces.append(Piece(decoded, tuple(group)))
        buffer, group = b"", []
    if group:  # cut by `limit` in the middle of a character
        pieces.append(Piece(buffer.decode("utf-8", errors="replace"), tuple(group)))
    return pieces


# --- images: size from the file's own header, tokens by the documented formulas ---------


@dataclass(frozen=True)
class ImageSize:
    width: int
    height: int
    format: str


_DATA_URL_RE = re.compile(r"^data:([^,;]*)((?:;[^,;]*)*),", re.IGNORECASE)
_JPEG_SOF = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}


def data_url_bytes(url: str) -> bytes | None:
    """The bytes of a `data:` URL, or None if it is not one (or not decodable)."""
    match = _DATA_URL_RE.match(url)
    if match is None:
        return None
    payload = url[match.end() :]
    if ";base64" in match.group(2).lower():
        try:
            return base64.b64decode("".join(payload.split()), validate=True)
        except (binascii.Error, ValueError):
            return None
    return urllib.parse.unquote_to_bytes(payload)


def image_size(data: bytes) -> ImageSize | None:
    """Width and height read from a PNG, GIF, WebP or JPEG header; None if unreadable."""
    if data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR" and len(data) >= 24:
        width, height = struct.unpack(">II", data[16:24])
        return ImageSize(width, height, "PNG")
    if data[:6] in (b"GIF87a", b"GIF89a") and len(data) >= 10:
        width, height = struct.unpack("<HH", data[6:10])
        return ImageSize(width, height, "GIF")
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return _webp_size(data)
    if data[:2] == b"\xff\xd8":
        return _jpeg_size(data)
    return None


def _webp_size(data: bytes) -> ImageSize | None:
    chunk = data[12:16]
    if chunk == b"VP8 " and len(data) >= 30 and data[23:26] == b"\x9d\x01\x2a":
        width, height = struct.unpack("<HH", data[26:30])
        return ImageSize(width & 0x3FFF, height & 0x3FFF, "WebP")
    if chunk == b"VP8L" and len(data) >= 25 and data[20] == 0x2F:
        bits = int.from_bytes(data[21:25], "little")
        return ImageSize((bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1, "WebP")
    if chunk == b"VP8X" and len(data) >= 30:
        width = int.from_bytes(data[24:27], "little") + 1
        height = int.from_bytes(data[27:30], "little") + 1
        return ImageSize(width, height, "WebP")
    return None


def _jpeg_size(data: bytes) -> ImageSize | None:
    i = 2
    while i + 4 <= len(data):
        if data[i] != 0xFF:
            return None
        marker = data[i + 1]
        if marker == 0xFF:  # fill byte
            i += 1
            continue
        if marker in (0x01, 0xD8) or 0xD0 <= marker <= 0xD7:  # no length
            i += 2
            continue
        length = int.from_bytes(data[i + 2 : i + 4], "big")
        if marker in _JPEG_SOF and i + 9 <= len(data):
            height, width = struct.unpack(">HH", data[i + 5 : i + 9])
            return ImageSize(width, height, "JPEG")
        if marker in (0xD9, 0xDA) or length < 2:  # end of image, or the scan before any SOF
            return None
        i += 2 + length
    return None


def image_rule(model: str) -> tuple[TileRule | PatchRule, bool]:
    """The documented image rule for `model`, and whether the guide names this model."""
    for prefix, rule in IMAGE_RULES:
        if model.startswith(prefix):
            return rule, True
    return DEFAULT_IMAGE_RULE, False


def tile_tokens(width: int, height: int, detail: str, rule: TileRule) -> int:
    """The tile formula (exact arithmetic, so 768 x 1536 really is 2 x 3 tiles)."""
    if detail == "low":
        return rule.base
    w, h = Fraction(width), Fraction(height)
    if max(w, h) > 2048:
        scale = Fraction(2048) / max(w, h)
        w, h = w * scale, h * scale
    if min(w, h) > 768:  # only ever scaled down: small images are not enlarged
        scale = Fraction(768) / min(w, h)
        w, h = w * scale, h * scale
    tiles = math.ceil(w / 512) * math.ceil(h / 512)
    return rule.base + rule.tile * tiles


def patch_count(width: int, height: int, budget: int = 1536) -> int:
    """Patches of 32 x 32 px after the guide's downscale (step C), before the multiplier."""
    raw = math.ceil(width / 32) * math.ceil(height / 32)
    if raw <= budget:
        return raw
    r = math.sqrt(32 * 32 * budget / (width * height))
    across, down = width * r / 32, height * r / 32
    # The guide's second step fits a whole number of patches; keep at least one per side.
    r *= min(max(1, math.floor(across)) / across, max(1, math.floor(down)) / down)
    # A small tolerance: 33.0000000001 patches are 33 patches, not 34.
    patches = math.ceil(width * r / 32 - 1e-9) * math.ceil(height * r / 32 - 1e-9)
    return min(budget, patches)


def patch_tokens(width: int, height: int, rule: PatchRule) -> int:
    exact = Decimal(patch_count(width, height, rule.budget)) * rule.multiplier
    return int(exact.to_integral_value(rounding=ROUND_HALF_UP))


def image_tokens(size: ImageSize, detail: str, model: str) -> tuple[int, str, str]:
    """Estimated tokens of one image on `model`, how they were reached, and the rule's key."""
    rule, named = image_rule(model)
    guess = "" if named else f"; {model or 'this model'} is not in the guide, so this is a guess"
    if isinstance(rule, PatchRule):
        patches = patch_count(size.width, size.height, rule.budget)
        tokens = patch_tokens(size.width, size.height, rule)
        how = (
            f"{patches} patches x {rule.multiplier} ({rule.models}); detail does not change "
            f"the patches{guess}"
        )
        return tokens, how, "patches"
    counted = "low" if detail == "low" else "high"
    said = "" if detail in ("low", "high") else f" ({detail or 'no detail'} counted as high)"
    tokens = tile_tokens(size.width, size.height, counted, rule)
    tiles = (tokens - rule.base) // rule.tile
    how = (
        f"detail {counted}{said}: {rule.base} + {rule.tile} x {tiles} tiles ({rule.models}){guess}"
        if counted == "high"
        else f"detail low: {rule.base} ({rule.models}){guess}"
    )
    return tokens, how, "tiles"


# --- a request's breakdown ------------------------------------------------------------------

NEEDS_API = "needs the API count"

# Kinds of request, as real bills group them (docs/token-counting.md). A request whose whole
# context is in it is one or more of the first five; one that needs the API count is of the
# kinds of the parts only the API can count.
TEXT_ONLY = "text only"
FUNCTION_TOOLS = "function tools"
JSON_SCHEMA = "json_schema format"
IMAGES = "images"
REASONING = "reasoning models"
MEASURED_KINDS = (TEXT_ONLY, FUNCTION_TOOLS, JSON_SCHEMA, IMAGES, REASONING)
HOSTED = "hosted tools"
EARLIER = "earlier context"
OPAQUE = "encrypted or stored items"
FILES = "files and images by reference"
PRO = "pro mode"
#: Bills from before April 2025, when the API counted the same requests differently.
MARCH_2025 = "billed in March 2025"


@dataclass(frozen=True)
class Part:
    """One counted piece: exact text, an estimate with its rule, or None (only the API knows).

    `cite` names the rule the page quotes in full: text, messages, functions, tiles, patches,
    json or api.
    """

    label: str
    tokens: int | None
    exact: bool
    how: str
    cite: str
    #: The text counted exactly, for the token view.
    text: str | None = None
    #: For a part only the API can count: which of the KINDS it makes the request.
    kind: str = ""

    @property
    def needs_api(self) -> bool:
        return self.tokens is None


@dataclass
class Entry:
    """A unit of the request: the instructions, one input item, one tool, the reply priming."""

    key: str
    label: str
    parts: list[Part]

    @property
    def tokens(self) -> int:
        return sum(p.tokens or 0 for p in self.parts)

    @property
    def exact_tokens(self) -> int:
        return sum(p.tokens or 0 for p in self.parts if p.exact)

    @property
    def estimated_tokens(self) -> int:
        return sum(p.tokens or 0 for p in self.parts if not p.exact)

    @property
    def needs_api(self) -> bool:
        return any(p.needs_api for p in self.parts)


@dataclass
class Breakdown:
    model: str
    encoding: EncodingChoice
    entries: list[Entry]
    #: What the page should say about the request beyond the count (chat_only_notes).
    notes: list[str] = field(default_factory=list)
    #: The kinds of request real bills group it with (request_kinds).
    kinds: list[str] = field(default_factory=list)

    @property
    def evidence(self) -> list[str]:
        """How far off the local count has been from real bills for requests like this."""
        return evidence_notes(self.kinds)

    @property
    def total(self) -> int:
        return sum(e.tokens for e in self.entries)

    @property
    def exact(self) -> int:
        return sum(e.exact_tokens for e in self.entries)

    @property
    def estimated(self) -> int:
        return sum(e.estimated_tokens for e in self.entries)

    @property
    def needs_api(self) -> list[Part]:
        return [p for e in self.entries for p in e.parts if p.needs_api]

    def entry(self, key: str) -> Entry | None:
        return next((e for e in self.entries if e.key == key), None)


def _api(label: str, why: str, kind: str) -> Part:
    return Part(label, None, False, f"{NEEDS_API}: {why}", "api", kind=kind)


class _Counter:
    """Counts for one model; `memo` lets a comparison over models reuse text counts.

    `cookbook`: count as the OpenAI Cookbook counts Chat Completions requests (its published
    totals); otherwise as the Responses API bills (docs/token-counting.md).
    """

    def __init__(
        self, model: str, memo: dict[tuple[str, str], int] | None, cookbook: bool = False
    ) -> None:
        self.model = model
        self.choice = encoding_for_model(model)
        self.encoding = get_encoding(self.choice.name)
        self.memo = memo if memo is not None else {}
        self.cookbook = cookbook
        self.reasoning = not cookbook and reasoning_format(model)
        if cookbook or self.choice.name == "cl100k_base":
            self.functions = (
                FUNCTIONS_CL100K if self.choice.name == "cl100k_base" else FUNCTIONS_O200K
            )
        else:
            self.functions = RESPONSES_REASONING if self.reasoning else RESPONSES_CHAT
        #: Function names by call_id, so an output is framed with the name of its call.
        self.call_names: dict[str, str] = {}

    def tokens(self, text: str) -> int:
        key = (self.choice.name, text)
        if (known := self.memo.get(key)) is None:
            known = self.memo[key] = count_text(self.encoding, text)
        return known

    def text(self, label: str, text: str) -> Part:
        return Part(label, self.tokens(text), True, f"exact ({self.choice.name})", "text", text)

    def json_text(self, label: str, value: Any, why: str) -> Part:
        text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
        return Part(label, self.tokens(text), False, f"{why}: counted as its JSON text", "json")

    def framing(self, role: str, what: str = "message") -> Part:
        analogy = "" if what == "message" else f"; a {what} framed like a message, by analogy"
        how = f"{TOKENS_PER_MESSAGE} per message + the role “{role}”{analogy}"
        return Part("framing", TOKENS_PER_MESSAGE + self.tokens(role), False, how, "messages")

    def constant(self, label: str, tokens: int, how: str) -> Part:
        return Part(label, tokens, False, how, "functions")

    # -- the Responses API's framing of tool calls (docs/token-counting.md) ------------

    def response_format(self, fmt: Any) -> list[Part]:
        """A json_schema text format as the API bills it: a "Response Formats" section with
        the schema as compact JSON, which in strict mode leaves out what strict implies
        (`additionalProperties`, `required`), and one token to join it."""
        schema = fmt.json_schema
        if fmt.strict:
            schema = _without(schema, STRICT_IMPLIED)
        header = f"# Response Formats\n\n## {fmt.name or ''}\n\n"
        text = json.dumps(schema, ensure_ascii=False, separators=(",", ":"))
        why = "strict: additionalProperties and required left out, " if fmt.strict else ""
        how = f"“# Response Formats”, its name and the schema as compact JSON ({why}+1)"
        tokens = self.tokens(header + text) + 1
        return [Part("schema", tokens, False, how, "schema")]

    def channel(self) -> Part:
        how = "<|channel|>final: an assistant turn's channel in the harmony format"
        return Part("channel", 1 + self.tokens("final"), False, how, "calls")

    def call_framing(self, name: str) -> Part:
        """A function call is an assistant turn addressed to the function; the name is
        counted as text, this is the rest (the recipient joined to the name as one string)."""
        if self.reasoning:
            pieces = ["assistant", f"commentary to=functions.{name} ", "json"]
            head, specials = (
                f"assistant<|channel|>commentary to=functions.{name} <|constrain|>json",
                5,
            )
        else:
            pieces = [f"assistant to=functions.{name}"]
            head, specials = pieces[0], 3
        tokens = specials + sum(self.tokens(p) for p in pieces) - self.tokens(name)
        return Part("framing", tokens, False, f"“{head}”, framed", "calls")

    def output_framing(self, name: str | None) -> Part:
        """A function's output is a turn of the function itself, named after its call."""
        if name is None:
            return self.framing("tool", "function_call_output whose call is not in the input")
        if self.reasoning:
            pieces = [f"functions.{name} to=assistant", "commentary"]
            head, specials = f"{pieces[0]}<|channel|>commentary", 4
        else:
            pieces = [f"functions.{name}"]
            head, specials = pieces[0], 3
        tokens = specials + sum(self.tokens(p) for p in pieces)
        return Part("framing", tokens, False, f"“{head}”, framed", "calls")

    # -- content ---------------------------------------------------------------------

    def content(self, content: Any, where: str) -> list[Part]:
        if isinstance(content, str):
            return [self.text(f"{where} text", content)]
        return [self.content_part(part, f"{where}[{i}]") for i, part in enumerate(content or [])]

    def content_part(self, part: Any, where: str) -> Part:
        kind = getattr(part, "type", None)
        if isinstance(part, InputTextPart | OutputTextPart | SummaryTextPart | ReasoningTextPart):
            return self.text(f"{where} {kind}", part.text)
        if isinstance(part, RefusalPart):
            return self.text(f"{where} refusal", part.refusal)
        if isinstance(part, InputImagePart | ComputerScreenshotPart):
            return self.image(part, where)
        if isinstance(part, InputFilePart):
            name = part.filename or part.file_id or part.file_url or "file"
            return _api(f"{where} input_file {name}", "a file's tokens", FILES)
        wire = getattr(part, "wire", part)
        return self.json_text(f"{where} {kind or 'part'}", wire, "a part type with no known rule")

    def image(self, part: Any, where: str) -> Part:
        label = f"{where} {part.type}"
        url = part.image_url or ""
        if not url.startswith("data:"):
            given = "a file id" if part.file_id and not url else "a remote URL"
            return _api(label, f"an image given by {given}; its size is not known here", FILES)
        data = data_url_bytes(url)
        size = image_size(data) if data is not None else None
        if size is None:
            return _api(label, "the image's size could not be read from its header", FILES)
        detail = getattr(part, "detail", None) or "auto"
        tokens, how, cite = image_tokens(size, detail, self.model)
        return Part(f"{label} {size.format} {size.width}x{size.height}", tokens, False, how, cite)

    # -- items -----------------------------------------------------------------------

    def item(self, item: Any, index: int) -> Entry:
        where = f"input[{index}]"
        kind = getattr(item, "type", None) or "item"
        key = f"input.{index}"
        if isinstance(item, MessageItem):
            parts = [self.framing(item.role), *self.content(item.content, "content")]
            if self.reasoning and item.role == "assistant":
                parts.insert(1, self.channel())
            return Entry(key, f"{where} message · {item.role}", parts)
        if isinstance(item, FunctionCallItem):
            if self.cookbook:
                parts = [self.framing("assistant", kind), self.text("name", item.name)]
            else:
                parts = [self.call_framing(item.name), self.text("name", item.name)]
            parts.append(self.text("arguments", item.arguments))
            return Entry(key, f"{where} {kind} · {item.name}", parts)
        if isinstance(item, FunctionCallOutputItem) and not self.cookbook:
            name = self.call_names.get(item.call_id or "")
            parts = [self.output_framing(name), *self.content(item.output, "output")]
            return Entry(key, f"{where} {kind} · {item.call_id}", parts)
        if isinstance(item, CustomToolCallItem):
            parts = [
                self.framing("assistant", kind),
                self.text("name", item.name),
                self.text("input", item.input),
            ]
            return Entry(key, f"{where} {kind} · {item.name}", parts)
        if isinstance(item, FunctionCallOutputItem | CustomToolCallOutputItem):
            parts = [self.framing("tool", kind), *self.content(item.output, "output")]
            return Entry(key, f"{where} {kind} · {item.call_id}", parts)
        if isinstance(item, ComputerCallOutputItem):
            parts = [self.framing("tool", kind)]
            if item.output is not None:
                parts.append(self.content_part(item.output, "output"))
            return Entry(key, f"{where} {kind}", parts)
        if isinstance(item, ReasoningItem | CompactionItem | ItemReferenceItem):
            why = {
                "reasoning": "reasoning travels as encrypted content only the API can read",
                "compaction": "a compaction is encrypted content only the API can read",
                "item_reference": "it points at an item stored upstream",
            }[kind]
            return Entry(key, f"{where} {kind}", [_api(kind, why, OPAQUE)])
        if isinstance(item, ImageGenerationCallItem):
            return Entry(key, f"{where} {kind}", [_api(kind, "a generated image", OPAQUE)])
        wire = getattr(item, "wire", item)
        fields = (
            {k: v for k, v in wire.items() if k not in ("id", "status", "type")}
            if isinstance(wire, dict)
            else wire
        )
        why = f"a {kind} item" if kind in ITEM_TYPES else f"unknown item type {kind!r}"
        parts = [self.framing("tool", kind), self.json_text("fields", fields, why)]
        return Entry(key, f"{where} {kind}", parts)

    # -- tools -----------------------------------------------------------------------

    def tool(self, tool: Any, index: int) -> Entry:
        key, where = f"tools.{index}", f"tools[{index}]"
        kind = getattr(tool, "type", None) or "tool"
        if isinstance(tool, FunctionTool):
            return Entry(key, f"{where} function · {tool.name}", self.function(tool))
        if isinstance(tool, CustomTool):
            c = self.functions
            how = f"{c.func_init} per function ({c.family}); a custom tool by analogy"
            parts = [
                self.constant("definition", c.func_init, how),
                self.text("name:description", f"{tool.name}:{tool.description or ''}"),
            ]
            if tool.format is not None and tool.format.definition:
                parts.append(self.text(f"grammar ({tool.format.syntax})", tool.format.definition))
            return Entry(key, f"{where} custom · {tool.name}", parts)
        why = f"the API adds its own instructions for a {kind} tool"
        return Entry(key, f"{where} {kind}", [_api(kind, why, HOSTED)])

    def function(self, tool: FunctionTool) -> list[Part]:
        c = self.functions
        description = (tool.description or "").removesuffix(".")
        parts = [
            self.constant("function", c.func_init, f"{c.func_init} per function ({c.family})"),
            self.text("name:description", f"{tool.name}:{description}"),
        ]
        properties = (tool.parameters or {}).get("properties") or {}
        if not isinstance(properties, dict) or not properties:
            return parts
        parts.append(self.constant("properties", c.prop_init, f"{c.prop_init} to open them"))
        for name, spec in properties.items():
            spec = spec if isinstance(spec, dict) else {}
            kind = spec.get("type", "")
            kind = kind if isinstance(kind, str) else json.dumps(kind)
            description = str(spec.get("description") or "").removesuffix(".")
            overhead, how = c.prop_key, f"{c.prop_key} per property"
            enum = spec.get("enum")
            if isinstance(enum, list):
                overhead += c.enum_init + c.enum_item * len(enum)
                how += f", {c.enum_init} per enum + {c.enum_item} per value ({len(enum)})"
                parts += [self.text(f"{name} enum value", str(value)) for value in enum]
            parts.append(self.constant(f"{name} property", overhead, how))
            parts.append(self.text(f"{name}:type:description", f"{name}:{kind}:{description}"))
            rest = {k: v for k, v in spec.items() if k not in ("type", "description", "enum")}
            if rest:
                parts.append(self.json_text(f"{name} schema", rest, "beyond the cookbook's rule"))
        return parts


#: Keys a strict json_schema implies, which the API leaves out of what it bills.
STRICT_IMPLIED = frozenset({"additionalProperties", "required"})


def _without(value: Any, keys: frozenset[str]) -> Any:
    if isinstance(value, dict):
        return {k: _without(v, keys) for k, v in value.items() if k not in keys}
    if isinstance(value, list):
        return [_without(v, keys) for v in value]
    return value


def count_request(
    request: InputTokensRequest,
    model: str | None = None,
    memo: dict[tuple[str, str], int] | None = None,
    *,
    cookbook: bool = False,
) -> Breakdown:
    """The local count of `request` on `model` (default: the request's), part by part: as
    the Responses API bills it, or with `cookbook` as the OpenAI Cookbook counts the same
    messages and functions for Chat Completions (its published totals).

    Raises EncodingUnavailable when the model's encoding file is not installed.
    """
    model = (request.model or "") if model is None else model
    counter = _Counter(model, memo, cookbook)
    entries: list[Entry] = []
    for item in request.input if isinstance(request.input, list) else []:
        if isinstance(item, FunctionCallItem):
            counter.call_names.setdefault(item.call_id, item.name)
    if request.instructions:
        parts = [counter.framing("developer"), counter.text("text", request.instructions)]
        entries.append(Entry("instructions", "instructions", parts))
    if isinstance(request.input, str):
        parts = [counter.framing("user"), counter.text("text", request.input)]
        entries.append(Entry("input", "input (text, one user message)", parts))
    else:
        entries += [counter.item(item, i) for i, item in enumerate(request.input or [])]
    entries += [counter.tool(tool, i) for i, tool in enumerate(request.tools or [])]
    if any(isinstance(t, FunctionTool) for t in request.tools or []):
        c = counter.functions
        end = counter.constant("end", c.func_end, f"{c.func_end} after the last function")
        entries.append(Entry("tools.end", "tools: end of the function list", [end]))
    text_format = request.text.format if request.text is not None else None
    if text_format is not None and text_format.json_schema is not None:
        if cookbook:
            parts = [
                counter.json_text(
                    "schema", text_format.json_schema, "the API renders a schema its own way"
                )
            ]
        else:
            parts = counter.response_format(text_format)
        entries.append(Entry("text.format", f"text.format {text_format.name or ''}", parts))
    for name, what in (
        ("previous_response_id", "the earlier turns of the chain"),
        ("conversation", "the conversation's items"),
    ):
        if getattr(request, name):
            why = f"{what} are added by the API"
            entries.append(Entry(name, name, [_api(name, why, EARLIER)]))
    if getattr(request.reasoning, "mode", None) == "pro":
        # A real bill: 1,549 input tokens for an 18-token question (docs/token-counting.md).
        why = "pro mode runs the model several times and bills the input of each run"
        entries.append(Entry("reasoning.mode", "reasoning.mode pro", [_api("pro mode", why, PRO)]))
    if counter.reasoning:
        priming = Part("priming", REPLY_PRIMING - 1, False, "<|start|>assistant", "calls")
    else:
        priming = Part("priming", REPLY_PRIMING, False, "<|start|>assistant<|message|>", "messages")
    entries.append(Entry("reply", "reply priming", [priming]))
    breakdown = Breakdown(model, counter.choice, entries, chat_only_notes(request))
    breakdown.kinds = request_kinds(request, breakdown)
    return breakdown


#: Fields of a Chat Completions message that a Responses API input item does not have.
CHAT_ONLY_FIELDS = {
    "name": "a participant's name (the cookbook counts it, 1 token more, in Chat Completions)",
    "tool_calls": "an assistant's tool calls (Responses: function_call items)",
    "tool_call_id": "the call a tool message answers (Responses: function_call_output items)",
    "function_call": "the legacy function call (Responses: function_call items)",
}
#: Chat Completions roles with no Responses message of that role.
CHAT_ONLY_ROLES = {
    "tool": "a tool's answer (Responses: a function_call_output item)",
    "function": "a legacy function's answer (Responses: a function_call_output item)",
}


def chat_only_notes(request: InputTokensRequest) -> list[str]:
    """A sentence for each Chat Completions field or role in the input: the Responses API
    has none of these, so none is counted (and the API may refuse the request)."""
    notes = []
    for index, item in enumerate(request.input if isinstance(request.input, list) else []):
        if not isinstance(item, MessageItem):
            continue
        extra = item.model_extra or {}
        for name, what in CHAT_ONLY_FIELDS.items():
            if name in extra:
                notes.append(
                    f"input[{index}] has “{name}”, {what}: a Chat Completions field the "
                    "Responses API does not have, so it is not counted here."
                )
        if item.role in CHAT_ONLY_ROLES:
            notes.append(
                f"input[{index}] has the role “{item.role}”, {CHAT_ONLY_ROLES[item.role]}: a "
                "Chat Completions role the Responses API does not have; counted as a message."
            )
    return notes


def cookbook_messages(messages: list[dict[str, str]], model: str) -> int:
    """The cookbook's num_tokens_from_messages for chat-style dicts (`name` included)."""
    counter = _Counter(model, None)
    total = REPLY_PRIMING
    for message in messages:
        total += TOKENS_PER_MESSAGE
        for key, value in message.items():
            total += counter.tokens(value)
            if key == "name":
                total += TOKENS_PER_NAME
    return total


# --- how close the local count comes to real bills ---------------------------------------


def request_kinds(request: InputTokensRequest, breakdown: Breakdown) -> list[str]:
    """The kinds of request real bills group this one with (MEASURED_KINDS when its whole
    context is in it, else the kinds of what only the API can count)."""
    apart = sorted({part.kind for part in breakdown.needs_api if part.kind})
    if apart:
        return apart
    kinds = []
    if any(isinstance(tool, FunctionTool | CustomTool) for tool in request.tools or []):
        kinds.append(FUNCTION_TOOLS)
    text_format = request.text.format if request.text is not None else None
    if text_format is not None and text_format.json_schema is not None:
        kinds.append(JSON_SCHEMA)
    if any(p.cite in ("tiles", "patches") for e in breakdown.entries for p in e.parts):
        kinds.append(IMAGES)
    if not kinds:
        kinds.append(TEXT_ONLY)
    if reasoning_format(breakdown.model):
        kinds.append(REASONING)
    return kinds


@dataclass(frozen=True)
class Evidence:
    """How the local count compared with real bills for one kind of request: `within` of
    `pairs` came within max(2 tokens, 2 %); billed less local ran from `low` to `high`."""

    pairs: int
    within: int
    low: int
    high: int
    median: int


#: Measured by bench/token_accuracy.py on ../shared/real-world/input-tokens.jsonl (bills
#: since April 2025); tests/test_token_accuracy.py recomputes it, so it cannot drift.
EVIDENCE: dict[str, Evidence] = {
    MARCH_2025: Evidence(pairs=10, within=1, low=1, high=655, median=138),
    EARLIER: Evidence(pairs=10, within=4, low=0, high=103, median=20),
    OPAQUE: Evidence(pairs=17, within=1, low=-705, high=9592, median=504),
    FUNCTION_TOOLS: Evidence(pairs=21, within=20, low=0, high=3, median=0),
    HOSTED: Evidence(pairs=36, within=0, low=313, high=115869, median=1810),
    JSON_SCHEMA: Evidence(pairs=4, within=4, low=0, high=0, median=0),
    PRO: Evidence(pairs=1, within=0, low=1531, high=1531, median=1531),
    REASONING: Evidence(pairs=23, within=22, low=0, high=3, median=0),
    TEXT_ONLY: Evidence(pairs=35, within=35, low=-4, high=0, median=0),
}


def _signed(number: int) -> str:
    return f"{number:+,}" if number else "0"


def evidence_notes(kinds: list[str]) -> list[str]:
    """What real bills say about requests of these kinds, one sentence each."""
    notes = []
    for kind in kinds:
        found = EVIDENCE.get(kind)
        if found is None or found.pairs == 0:
            notes.append(f"No real bill since April 2025 checks requests with {kind}.")
        elif kind in MEASURED_KINDS:
            notes.append(
                f"Requests with {kind}: the local count came within 2 tokens (or 2 %) of the "
                f"bill in {found.within} of {found.pairs} real bills; off by {_signed(found.low)} "
                f"to {_signed(found.high)} tokens (billed less local)."
            )
        else:
            notes.append(
                f"Requests with {kind} were billed {_signed(found.low)} to {_signed(found.high)} "
                f"tokens over the local count in {found.pairs} real bills (median "
                f"{_signed(found.median)}): "
                "ask the API for this one."
            )
    return notes

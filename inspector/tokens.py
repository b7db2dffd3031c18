"""Local token counting with tiktoken, and the offline installation of its encoding files.

Counting is pure functions over schemas: text exactly, with the model's encoding; framing,
function definitions and images as estimates that carry their published rule; and
"needs the API count" where nothing local is sound (files, images by id or remote URL).

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
from dataclasses import dataclass
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


#: gpt-4o / gpt-4o-mini (o200k_base models) and gpt-4 / gpt-3.5-turbo (cl100k_base models).
FUNCTIONS_O200K = FunctionConstants("gpt-4o, gpt-4o-mini", func_init=7)
FUNCTIONS_CL100K = FunctionConstants("gpt-4, gpt-3.5-turbo", func_init=10)


def function_rule(constants: FunctionConstants) -> str:
    c = constants
    return (
        f"{COOKBOOK}, num_tokens_for_tools for {c.family}: {c.func_init} per function, "
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


def _api(label: str, why: str) -> Part:
    return Part(label, None, False, f"{NEEDS_API}: {why}", "api")


class _Counter:
    """Counts for one model; `memo` lets a comparison over models reuse text counts."""

    def __init__(self, model: str, memo: dict[tuple[str, str], int] | None) -> None:
        self.model = model
        self.choice = encoding_for_model(model)
        self.encoding = get_encoding(self.choice.name)
        self.memo = memo if memo is not None else {}
        self.functions = FUNCTIONS_CL100K if self.choice.name == "cl100k_base" else FUNCTIONS_O200K

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
            return _api(f"{where} input_file {name}", "a file's tokens")
        wire = getattr(part, "wire", part)
        return self.json_text(f"{where} {kind or 'part'}", wire, "a part type with no known rule")

    def image(self, part: Any, where: str) -> Part:
        label = f"{where} {part.type}"
        url = part.image_url or ""
        if not url.startswith("data:"):
            given = "a file id" if part.file_id and not url else "a remote URL"
            return _api(label, f"an image given by {given}; its size is not known here")
        data = data_url_bytes(url)
        size = image_size(data) if data is not None else None
        if size is None:
            return _api(label, "the image's size could not be read from its header")
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
            return Entry(key, f"{where} message · {item.role}", parts)
        if isinstance(item, FunctionCallItem):
            parts = [
                self.framing("assistant", kind),
                self.text("name", item.name),
                self.text("arguments", item.arguments),
            ]
            return Entry(key, f"{where} {kind} · {item.name}", parts)
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
            return Entry(key, f"{where} {kind}", [_api(kind, why)])
        if isinstance(item, ImageGenerationCallItem):
            return Entry(key, f"{where} {kind}", [_api(kind, "a generated image")])
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
        return Entry(key, f"{where} {kind}", [_api(kind, why)])

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


def count_request(
    request: InputTokensRequest,
    model: str | None = None,
    memo: dict[tuple[str, str], int] | None = None,
) -> Breakdown:
    """The local count of `request` on `model` (default: the request's), part by part.

    Raises EncodingUnavailable when the model's encoding file is not installed.
    """
    model = (request.model or "") if model is None else model
    counter = _Counter(model, memo)
    entries: list[Entry] = []
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
        schema = counter.json_text(
            "schema", text_format.json_schema, "the API renders a schema its own way"
        )
        entries.append(Entry("text.format", f"text.format {text_format.name or ''}", [schema]))
    for name, what in (
        ("previous_response_id", "the earlier turns of the chain"),
        ("conversation", "the conversation's items"),
    ):
        if getattr(request, name):
            entries.append(Entry(name, name, [_api(name, f"{what} are added by the API")]))
    priming = Part("priming", REPLY_PRIMING, False, "<|start|>assistant<|message|>", "messages")
    entries.append(Entry("reply", "reply priming", [priming]))
    return Breakdown(model, counter.choice, entries)


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

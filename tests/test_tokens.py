"""Local counting rules (inspector/tokens.py), each a table of cases.

The cookbook totals (124 / 129 for its messages, 101 / 105 with its weather function) are the
ones printed in OpenAI's "How to count tokens with tiktoken" notebook, checked against its
published outputs; the image totals are the worked examples of OpenAI's vision guide.
"""

import base64
import struct
import zlib
from decimal import Decimal

import pytest
import tiktoken
from tiktoken_ext.openai_public import ENCODING_CONSTRUCTORS

from inspector import tokens
from inspector.schemas import InputTokensRequest


@pytest.fixture(autouse=True, scope="module")
def _encodings_installed() -> None:
    tokens.install_encoding_files()  # from the bpe-openai wheel, verified; never downloads


def o200k():  # type: ignore[no-untyped-def]
    return tokens.get_encoding("o200k_base")


def request(**body):  # type: ignore[no-untyped-def]
    return InputTokensRequest.model_validate(body)


# --- images built in the test: only the bytes each format's header needs ------------------


def png(width: int, height: int) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IEND", b"")


def gif(width: int, height: int) -> bytes:
    return b"GIF89a" + struct.pack("<HH", width, height) + b"\x00\x00\x00;"


def jpeg(width: int, height: int) -> bytes:
    app0 = b"\xff\xe0" + struct.pack(">H", 16) + b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    app1 = b"\xff\xe1" + struct.pack(">H", 2 + 40) + b"Exif\x00\x00" + bytes(34)
    sof2 = b"\xff\xc2" + struct.pack(">HBHHB", 11, 8, height, width, 1) + b"\x01\x11\x00"
    return b"\xff\xd8" + app0 + app1 + sof2 + b"\xff\xd9"


def webp_lossy(width: int, height: int) -> bytes:
    frame = b"\x9d\x01\x2a" + struct.pack("<HH", width, height)
    data = b"\x00\x00\x00" + frame
    return (
        b"RIFF"
        + struct.pack("<I", 4 + 8 + len(data))
        + b"WEBPVP8 "
        + struct.pack("<I", len(data))
        + data
    )


def webp_lossless(width: int, height: int) -> bytes:
    bits = (width - 1) | ((height - 1) << 14)
    data = b"\x2f" + bits.to_bytes(4, "little")
    return (
        b"RIFF"
        + struct.pack("<I", 4 + 8 + len(data))
        + b"WEBPVP8L"
        + struct.pack("<I", len(data))
        + data
    )


def webp_extended(width: int, height: int) -> bytes:
    data = (
        b"\x10\x00\x00\x00" + (width - 1).to_bytes(3, "little") + (height - 1).to_bytes(3, "little")
    )
    return (
        b"RIFF"
        + struct.pack("<I", 4 + 8 + len(data))
        + b"WEBPVP8X"
        + struct.pack("<I", len(data))
        + data
    )


def data_url(data: bytes, kind: str = "image/png") -> str:
    return f"data:{kind};base64,{base64.b64encode(data).decode()}"


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (png(1024, 768), tokens.ImageSize(1024, 768, "PNG")),
        (png(1, 100000), tokens.ImageSize(1, 100000, "PNG")),
        (gif(640, 480), tokens.ImageSize(640, 480, "GIF")),
        (jpeg(4032, 3024), tokens.ImageSize(4032, 3024, "JPEG")),
        (webp_lossy(800, 600), tokens.ImageSize(800, 600, "WebP")),
        (webp_lossless(300, 16383), tokens.ImageSize(300, 16383, "WebP")),
        (webp_extended(5000, 7000), tokens.ImageSize(5000, 7000, "WebP")),
        (b"not an image at all", None),
        (b"\xff\xd8\xff\xda\x00\x02", None),  # a JPEG whose scan starts before any frame header
        (b"", None),
    ],
)
def test_image_size_is_read_from_the_files_own_header(data, expected):
    assert tokens.image_size(data) == expected


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (data_url(b"\x01\x02\x03"), b"\x01\x02\x03"),
        ("data:image/png;base64,AQID\n", b"\x01\x02\x03"),
        ("data:text/plain,hello%20world", b"hello world"),
        ("DATA:image/gif;charset=x;base64,AQID", b"\x01\x02\x03"),
        ("https://example.com/cat.png", None),
        ("data:image/png;base64,@@@", None),
    ],
)
def test_data_urls_are_decoded_and_other_urls_are_not(url, expected):
    assert tokens.data_url_bytes(url) == expected


# --- the vision guide's formulas ------------------------------------------------------------

GPT_4O = tokens.TileRule("4o, 4.1, 4.5", 85, 170)


@pytest.mark.parametrize(
    ("width", "height", "detail", "rule", "expected"),
    [
        # The guide's own examples for gpt-4o.
        (1024, 1024, "high", GPT_4O, 765),
        (2048, 4096, "high", GPT_4O, 1105),
        (4096, 8192, "low", GPT_4O, 85),
        # Small images are not enlarged: one tile.
        (512, 512, "high", GPT_4O, 255),
        (128, 64, "high", GPT_4O, 255),
        (513, 512, "high", GPT_4O, 425),
        # 768 x 1536 after scaling is exactly 2 x 3 tiles, not 2 x 4.
        (1000, 2000, "high", GPT_4O, 1105),
        # The other rows of the guide's table.
        (1024, 1024, "high", tokens.TileRule("gpt-5", 70, 140), 630),
        (1024, 1024, "high", tokens.TileRule("4o-mini", 2833, 5667), 25501),
        (1024, 1024, "low", tokens.TileRule("o1, o1-pro, o3", 75, 150), 75),
        (1024, 1024, "high", tokens.TileRule("computer-use-preview", 65, 129), 581),
    ],
)
def test_tile_formula_matches_the_vision_guide(width, height, detail, rule, expected):
    assert tokens.tile_tokens(width, height, detail, rule) == expected


@pytest.mark.parametrize(
    ("width", "height", "expected"),
    [
        (1024, 1024, 1024),  # the guide: "A 1024 x 1024 image is 1024 tokens"
        (1800, 2400, 1452),  # the guide: "A 1800 x 2400 image is 1452 tokens"
        (32, 32, 1),
        (33, 32, 2),
        (1536 * 32, 32, 1536),
        (1, 49152, 1536),  # 1 x 1536 patches: at the cap, not above it
        (1, 49153, 1536),  # extreme aspect ratio: scaled, capped, never zero
        (8192, 8192, 1521),
    ],
)
def test_patch_count_matches_the_vision_guide(width, height, expected):
    assert tokens.patch_count(width, height) == expected


@pytest.mark.parametrize(
    ("model", "width", "height", "expected"),
    [
        ("gpt-4.1-mini", 1024, 1024, 1659),  # 1024 x 1.62 = 1658.88
        ("gpt-4.1-mini-2025-04-14", 1800, 2400, 2352),  # 1452 x 1.62 = 2352.24
        ("gpt-4.1-nano", 1024, 1024, 2519),  # x 2.46
        ("gpt-5-mini", 1024, 1024, 1659),
        ("gpt-5-nano", 1800, 2400, 3572),  # 3571.92
        ("o4-mini", 1024, 1024, 1761),  # x 1.72 = 1761.28
    ],
)
def test_patch_models_multiply_patches_by_their_multiplier(model, width, height, expected):
    rule, named = tokens.image_rule(model)
    assert named
    assert isinstance(rule, tokens.PatchRule)
    assert tokens.patch_tokens(width, height, rule) == expected


@pytest.mark.parametrize(
    ("model", "expected_rule", "named"),
    [
        ("gpt-4o", tokens.TileRule("4o, 4.1, 4.5", 85, 170), True),
        ("gpt-4o-2024-11-20", tokens.TileRule("4o, 4.1, 4.5", 85, 170), True),
        ("gpt-4.1", tokens.TileRule("4o, 4.1, 4.5", 85, 170), True),
        ("gpt-4o-mini", tokens.TileRule("4o-mini", 2833, 5667), True),
        ("gpt-5", tokens.TileRule("gpt-5, gpt-5-chat-latest", 70, 140), True),
        ("gpt-5.1", tokens.TileRule("gpt-5, gpt-5-chat-latest", 70, 140), True),
        ("gpt-5-mini", tokens.PatchRule("gpt-5-mini", Decimal("1.62")), True),
        ("o3", tokens.TileRule("o1, o1-pro, o3", 75, 150), True),
        ("o4-mini", tokens.PatchRule("o4-mini", Decimal("1.72")), True),
        ("computer-use-preview", tokens.TileRule("computer-use-preview", 65, 129), True),
        ("my-fine-tune", tokens.DEFAULT_IMAGE_RULE, False),
        ("", tokens.DEFAULT_IMAGE_RULE, False),
    ],
)
def test_each_model_gets_the_image_rule_the_guide_gives_it(model, expected_rule, named):
    assert tokens.image_rule(model) == (expected_rule, named)


@pytest.mark.parametrize(
    ("model", "url", "detail", "expected"),
    [
        ("gpt-4o", data_url(png(1024, 1024)), "high", 765),
        ("gpt-4o", data_url(jpeg(2048, 4096), "image/jpeg"), "high", 1105),
        ("gpt-4o", data_url(gif(4096, 8192), "image/gif"), "low", 85),
        ("gpt-4o", data_url(png(1024, 1024)), "auto", 765),  # auto counted as high
        ("gpt-4.1-mini", data_url(webp_lossy(1024, 1024), "image/webp"), "low", 1659),
        ("gpt-4o", "https://example.com/cat.png", "high", None),
        ("gpt-4o", "data:image/png;base64,bm90IGFuIGltYWdl", "high", None),
    ],
)
def test_an_input_image_is_estimated_from_its_header_or_left_to_the_api(
    model, url, detail, expected
):
    body = {
        "model": model,
        "input": [
            {
                "role": "user",
                "content": [{"type": "input_image", "image_url": url, "detail": detail}],
            }
        ],
    }
    part = tokens.count_request(request(**body)).entries[0].parts[1]
    assert part.tokens == expected
    assert part.exact is False
    assert part.cite == ("api" if expected is None else "patches" if "mini" in model else "tiles")


def test_an_image_given_by_file_id_needs_the_api_count():
    body = {
        "model": "gpt-4o",
        "input": [{"role": "user", "content": [{"type": "input_image", "file_id": "file_1"}]}],
    }
    part = tokens.count_request(request(**body)).entries[0].parts[1]
    assert part.needs_api
    assert "file id" in part.how


# --- the cookbook's published examples ------------------------------------------------------

COOKBOOK_MESSAGES = [
    {
        "role": "system",
        "content": "You are a helpful, pattern-following assistant that translates corporate "
        "jargon into plain English.",
    },
    {
        "role": "system",
        "name": "example_user",
        "content": "New synergies will help drive top-line growth.",
    },
    {
        "role": "system",
        "name": "example_assistant",
        "content": "Things working well together will increase revenue.",
    },
    {
        "role": "system",
        "name": "example_user",
        "content": "Let's circle back when we have more bandwidth to touch base on opportunities "
        "for increased leverage.",
    },
    {
        "role": "system",
        "name": "example_assistant",
        "content": "Let's talk later when we're less busy about how to do better.",
    },
    {
        "role": "user",
        "content": "This late pivot means we don't have time to boil the ocean for the client "
        "deliverable.",
    },
]

WEATHER_TOOL = {
    "type": "function",
    "name": "get_current_weather",
    "description": "Get the current weather in a given location",
    "parameters": {
        "type": "object",
        "properties": {
            "location": {
                "type": "string",
                "description": "The city and state, e.g. San Francisco, CA",
            },
            "unit": {
                "type": "string",
                "description": "The unit of temperature to return",
                "enum": ["celsius", "fahrenheit"],
            },
        },
        "required": ["location"],
    },
}
WEATHER_MESSAGES = [
    {
        "role": "system",
        "content": "You are a helpful assistant that can answer to questions about the weather.",
    },
    {"role": "user", "content": "What's the weather like in San Francisco?"},
]


@pytest.mark.parametrize(
    ("model", "expected"),
    [("gpt-4o", 124), ("gpt-4o-mini", 124), ("gpt-4", 129), ("gpt-3.5-turbo", 129)],
)
def test_cookbook_message_example_gives_its_published_totals(model, expected):
    assert tokens.cookbook_messages(COOKBOOK_MESSAGES, model) == expected


@pytest.mark.parametrize(
    ("model", "expected"),
    [("gpt-4o", 101), ("gpt-4o-mini", 101), ("gpt-4", 105), ("gpt-3.5-turbo", 105)],
)
def test_cookbook_function_example_gives_its_published_totals(model, expected):
    breakdown = tokens.count_request(
        request(model=model, input=WEATHER_MESSAGES, tools=[WEATHER_TOOL]), cookbook=True
    )
    assert breakdown.total == expected


@pytest.mark.parametrize(
    ("tool", "model", "expected"),
    [
        # 7 + "f:Does things" (tiktoken) + nothing else: no properties.
        ({"type": "function", "name": "f", "description": "Does things."}, "gpt-4o", 7),
        ({"type": "function", "name": "f", "description": "Does things."}, "gpt-4", 10),
        # 7 + 3 to open the properties + 3 for the property.
        (
            {
                "type": "function",
                "name": "f",
                "parameters": {"type": "object", "properties": {"q": {"type": "string"}}},
            },
            "gpt-4o",
            13,
        ),
        # An enum of 3: 3 + (-3) + 3 x 3 for the property.
        (
            {
                "type": "function",
                "name": "f",
                "parameters": {"properties": {"u": {"type": "string", "enum": ["a", "b", "c"]}}},
            },
            "gpt-4o",
            7 + 3 + 9,
        ),
    ],
)
def test_function_definitions_use_the_cookbook_constants(tool, model, expected):
    counted = tokens.count_request(request(model=model, tools=[tool]), cookbook=True)
    entry = counted.entry("tools.0")
    assert entry is not None
    assert entry.estimated_tokens == expected
    assert counted.entry("tools.end").tokens == 12


def test_schema_keys_beyond_the_cookbook_rule_are_counted_as_json_estimates():
    tool = {
        "type": "function",
        "name": "search",
        "parameters": {
            "properties": {"filters": {"type": "object", "properties": {"tag": {"type": "string"}}}}
        },
    }
    entry = tokens.count_request(request(model="gpt-4o", tools=[tool])).entry("tools.0")
    schema = [p for p in entry.parts if p.label == "filters schema"]
    encoding = o200k()
    assert schema[0].tokens == len(
        encoding.encode_ordinary('{"properties":{"tag":{"type":"string"}}}')
    )
    assert schema[0].cite == "json"


# --- messages, items and the request's other parts --------------------------------------------


def test_each_message_is_framed_by_three_tokens_and_its_role_plus_three_for_the_reply():
    encoding = o200k()
    breakdown = tokens.count_request(
        request(model="gpt-4o", instructions="Be brief.", input=[{"role": "user", "content": "Hi"}])
    )
    framing = [p for e in breakdown.entries for p in e.parts if p.cite == "messages"]
    assert [p.tokens for p in framing] == [
        3 + len(encoding.encode_ordinary("developer")),
        3 + len(encoding.encode_ordinary("user")),
        3,
    ]
    assert breakdown.total == sum(p.tokens for p in framing) + len(
        encoding.encode_ordinary("Be brief.")
    ) + len(encoding.encode_ordinary("Hi"))


@pytest.mark.parametrize(
    ("item", "counted_text", "needs_api"),
    [
        ({"role": "assistant", "content": "Sure."}, ["Sure."], False),
        (
            {
                "type": "message",
                "role": "user",
                "content": [
                    {"type": "input_text", "text": "one"},
                    {"type": "input_text", "text": "two"},
                ],
            },
            ["one", "two"],
            False,
        ),
        (
            {"type": "function_call", "call_id": "c1", "name": "lookup", "arguments": '{"id":7}'},
            ["lookup", '{"id":7}'],
            False,
        ),
        (
            {"type": "function_call_output", "call_id": "c1", "output": '{"status":"shipped"}'},
            ['{"status":"shipped"}'],
            False,
        ),
        (
            {"type": "custom_tool_call", "call_id": "c2", "name": "sql", "input": "SELECT 1"},
            ["sql", "SELECT 1"],
            False,
        ),
        (
            {
                "type": "message",
                "role": "user",
                "content": [{"type": "input_file", "file_id": "file_9", "filename": "a.pdf"}],
            },
            [],
            True,
        ),
        ({"type": "reasoning", "summary": [], "encrypted_content": "gAAAA"}, [], True),
        ({"type": "item_reference", "id": "msg_1"}, [], True),
        ({"type": "compaction", "encrypted_content": "gAAAA"}, [], True),
    ],
)
def test_items_count_their_text_exactly_or_say_they_need_the_api(item, counted_text, needs_api):
    breakdown = tokens.count_request(request(model="gpt-4o", input=[item]))
    entry = breakdown.entry("input.0")
    encoding = o200k()
    assert entry is not None
    assert [p.text for p in entry.parts if p.exact] == counted_text
    assert entry.exact_tokens == sum(len(encoding.encode_ordinary(t)) for t in counted_text)
    assert entry.needs_api is needs_api


def test_items_with_no_published_rule_are_counted_as_their_json_text():
    item = {
        "type": "web_search_call",
        "id": "ws_1",
        "status": "completed",
        "action": {"type": "search", "query": "weather"},
    }
    entry = tokens.count_request(request(model="gpt-4o", input=[item])).entry("input.0")
    json_part = next(p for p in entry.parts if p.cite == "json")
    text = '{"action":{"type":"search","query":"weather"}}'
    assert json_part.tokens == len(o200k().encode_ordinary(text))


@pytest.mark.parametrize(
    ("body", "key"),
    [
        ({"tools": [{"type": "web_search"}]}, "tools.0"),
        ({"tools": [{"type": "mcp", "server_label": "docs"}]}, "tools.0"),
        ({"tools": [{"type": "file_search", "vector_store_ids": ["vs_1"]}]}, "tools.0"),
        ({"previous_response_id": "resp_1"}, "previous_response_id"),
        ({"conversation": "conv_1"}, "conversation"),
    ],
)
def test_hosted_tools_and_server_side_context_need_the_api_count(body, key):
    breakdown = tokens.count_request(request(model="gpt-5.1", **body))
    assert breakdown.entry(key).needs_api
    assert breakdown.needs_api


def test_a_plain_string_input_is_one_user_message():
    breakdown = tokens.count_request(request(model="gpt-4o", input="Hello there"))
    entry = breakdown.entry("input")
    encoding = o200k()
    assert entry.tokens == 3 + len(encoding.encode_ordinary("user")) + len(
        encoding.encode_ordinary("Hello there")
    )


def test_a_json_schema_text_format_is_an_estimate():
    body = {
        "model": "gpt-4o",
        "text": {"format": {"type": "json_schema", "name": "answer", "schema": {"type": "object"}}},
    }
    entry = tokens.count_request(request(**body)).entry("text.format")
    text = '# Response Formats\n\n## answer\n\n{"type":"object"}'
    assert entry.estimated_tokens == len(o200k().encode_ordinary(text)) + 1
    assert entry.exact_tokens == 0
    cookbook = tokens.count_request(request(**body), cookbook=True).entry("text.format")
    assert cookbook.estimated_tokens == len(o200k().encode_ordinary('{"type":"object"}'))


def test_totals_are_exact_text_plus_estimates():
    breakdown = tokens.count_request(
        request(model="gpt-4o", instructions="x", input=WEATHER_MESSAGES, tools=[WEATHER_TOOL])
    )
    assert breakdown.total == breakdown.exact + breakdown.estimated
    assert breakdown.exact > 0
    assert breakdown.estimated > 0


# --- encodings: the model's, or o200k_base said on the page -------------------------------------


@pytest.mark.parametrize(
    ("model", "expected"),
    [
        ("gpt-5.1", tokens.EncodingChoice("o200k_base", False)),
        ("gpt-4.1-mini", tokens.EncodingChoice("o200k_base", False)),
        ("o4-mini", tokens.EncodingChoice("o200k_base", False)),
        ("gpt-4", tokens.EncodingChoice("cl100k_base", False)),
        ("gpt-3.5-turbo", tokens.EncodingChoice("cl100k_base", False)),
        ("my-company-model", tokens.EncodingChoice("o200k_base", True)),
        ("", tokens.EncodingChoice("o200k_base", True)),
    ],
)
def test_the_encoding_is_tiktokens_choice_or_o200k_for_unknown_models(model, expected):
    assert tokens.encoding_for_model(model) == expected


def test_an_unknown_model_is_counted_with_o200k_and_says_so():
    breakdown = tokens.count_request(request(model="acme-llm-7", input="Bonjour"))
    assert breakdown.encoding == tokens.EncodingChoice("o200k_base", True)
    assert breakdown.exact == len(o200k().encode_ordinary("Bonjour"))


# --- the text count is tiktoken's own --------------------------------------------------------

MULTILINGUAL = (
    "The quick brown fox jumps over the lazy dog. "
    "Съешь же ещё этих мягких французских булок. "
    "お誕生日おめでとう。東京は晴れです。 "
    "مرحبا بالعالم، كيف حالك؟ "
    "नमस्ते दुनिया, आप कैसे हैं? "
    "👩‍👩‍👧‍👦 🇯🇵 ✨ <|endoftext|> "
    "def f(x):\n\treturn x ** 2  # 平方\n"
)


@pytest.mark.parametrize(
    ("encoding_name", "model", "text"),
    [
        ("o200k_base", "gpt-4o", MULTILINGUAL * 2000),
        ("cl100k_base", "gpt-4", MULTILINGUAL * 500),
        ("o200k_base", "gpt-5.1", "word " * 50000),
        ("o200k_base", "gpt-5.1", "x" * 100_000),
    ],
)
def test_the_local_text_count_equals_tiktokens_own(
    encoding_name, model, text, settings, monkeypatch
):
    # A fresh tiktoken Encoding of its own, read from the installed file (never downloaded).
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(settings.TIKTOKEN_CACHE_DIR))
    reference = tiktoken.Encoding(**ENCODING_CONSTRUCTORS[encoding_name]())
    breakdown = tokens.count_request(request(model=model, input=text))
    assert breakdown.exact == len(reference.encode_ordinary(text))


@pytest.mark.parametrize(
    "text",
    ["お誕生日おめでとう", "👩‍👩‍👧‍👦 family", "ascii only", "mixed ü ß ø 漢字 🎉", "", "\n\t  \n"],
)
def test_the_token_view_keeps_multibyte_characters_whole(text):
    encoding = o200k()
    pieces = tokens.token_pieces(encoding, text)
    assert "".join(p.text for p in pieces) == text
    assert [i for p in pieces for i in p.ids] == encoding.encode_ordinary(text)
    assert "\ufffd" not in "".join(p.text for p in pieces)


def test_a_character_split_over_tokens_is_one_piece_with_all_its_ids():
    pieces = tokens.token_pieces(o200k(), "お誕生日")
    split = [p for p in pieces if p.text == "誕"]
    assert len(split) == 1
    assert len(split[0].ids) == 2


def test_the_token_view_limit_cuts_tokens_not_the_count():
    text = "hello world " * 100
    pieces = tokens.token_pieces(o200k(), text, limit=10)
    assert sum(len(p.ids) for p in pieces) == 10


# --- without the encoding file ----------------------------------------------------------------


def test_without_the_encoding_file_counting_raises_a_clear_error(settings, tmp_path, monkeypatch):
    settings.TIKTOKEN_CACHE_DIR = tmp_path
    monkeypatch.setattr(tokens, "_encodings", {})
    with pytest.raises(tokens.EncodingUnavailable) as raised:
        tokens.count_request(request(model="gpt-4o", input="hi"))
    assert "install_tokenizers" in str(raised.value)
    assert str(tmp_path) in str(raised.value)


# --- the Responses API's own rules, learned from real bills (tests/test_token_accuracy.py) ---

CALL = {"type": "function_call", "call_id": "c1", "name": "get_capital", "arguments": "{}"}
OUTPUT = {"type": "function_call_output", "call_id": "c1", "output": "Paris"}


@pytest.mark.parametrize(
    ("model", "call_text", "output_text", "specials"),
    [
        ("gpt-4o", ["assistant to=functions.get_capital"], ["functions.get_capital"], (3, 3)),
        (
            "gpt-5",
            ["assistant", "commentary to=functions.get_capital ", "json"],
            ["functions.get_capital to=assistant", "commentary"],
            (5, 4),
        ),
    ],
)
def test_a_call_and_its_output_are_turns_to_and_from_the_function(
    model, call_text, output_text, specials
):
    breakdown = tokens.count_request(request(model=model, input=[CALL, OUTPUT]))
    encoding = o200k()

    def n(texts):
        return sum(len(encoding.encode_ordinary(t)) for t in texts)

    assert breakdown.entry("input.0").tokens == specials[0] + n(call_text) + n(["{}"])
    assert breakdown.entry("input.1").tokens == specials[1] + n(output_text) + n(["Paris"])


def test_an_output_whose_call_is_not_in_the_input_is_framed_as_a_tool_turn():
    entry = tokens.count_request(request(model="gpt-4o", input=[OUTPUT])).entry("input.0")
    assert entry.parts[0].tokens == 3 + len(o200k().encode_ordinary("tool"))


def test_reasoning_models_prime_the_reply_with_two_tokens_and_frame_assistant_turns():
    items = [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello"}]
    chat = tokens.count_request(request(model="gpt-4o", input=items))
    harmony = tokens.count_request(request(model="gpt-5.1", input=items))
    assert harmony.entry("reply").tokens == chat.entry("reply").tokens - 1 == 2
    assert harmony.entry("input.1").tokens == chat.entry("input.1").tokens + 2


@pytest.mark.parametrize(
    ("model", "reasoning"),
    [("gpt-5.1", True), ("o3-mini", True), ("o4-mini-2025-04-16", True),
     ("computer-use-preview", True), ("gpt-5-chat-latest", False), ("gpt-4o", False),
     ("gpt-4.1", False)],
)  # fmt: skip
def test_which_models_read_the_harmony_format(model, reasoning):
    assert tokens.reasoning_format(model) is reasoning


@pytest.mark.parametrize(
    ("body", "kinds"),
    [
        ({"model": "gpt-4o", "input": "hi"}, [tokens.TEXT_ONLY]),
        ({"model": "gpt-5", "input": "hi"}, [tokens.TEXT_ONLY, tokens.REASONING]),
        ({"model": "gpt-4o", "tools": [WEATHER_TOOL]}, [tokens.FUNCTION_TOOLS]),
        (
            {
                "model": "gpt-4o",
                "text": {"format": {"type": "json_schema", "name": "a", "schema": {}}},
            },
            [tokens.JSON_SCHEMA],
        ),
        ({"model": "gpt-4o", "tools": [{"type": "web_search"}]}, [tokens.HOSTED]),
        (
            {"model": "gpt-4o", "previous_response_id": "resp_1", "tools": [{"type": "mcp"}]},
            [tokens.EARLIER, tokens.HOSTED],
        ),
        ({"model": "gpt-5", "reasoning": {"mode": "pro"}}, [tokens.PRO]),
    ],
)
def test_each_request_is_grouped_with_the_real_bills_of_its_kinds(body, kinds):
    assert tokens.count_request(request(**body)).kinds == kinds


def test_the_evidence_is_said_for_measured_kinds_kinds_apart_and_kinds_without_bills(monkeypatch):
    monkeypatch.setattr(
        tokens,
        "EVIDENCE",
        {
            tokens.TEXT_ONLY: tokens.Evidence(pairs=10, within=9, low=-3, high=1, median=0),
            tokens.HOSTED: tokens.Evidence(pairs=4, within=0, low=300, high=9000, median=1200),
        },
    )
    assert tokens.evidence_notes([tokens.TEXT_ONLY, tokens.HOSTED, tokens.IMAGES]) == [
        "Requests with text only: the local count came within 2 tokens (or 2 %) of the bill in "
        "9 of 10 real bills; off by -3 to +1 tokens (billed less local).",
        "Requests with hosted tools were billed +300 to +9,000 tokens over the local count in 4 "
        "real bills (median +1,200): ask the API for this one.",
        "No real bill since April 2025 checks requests with images.",
    ]


def test_a_chat_only_field_is_named_but_a_responses_field_is_not():
    items = [
        {"role": "user", "content": "Hi", "name": "bob"},
        {"role": "assistant", "content": "Yo", "phase": "final_answer"},
        {"role": "assistant", "content": "", "tool_calls": []},
    ]
    notes = tokens.count_request(request(model="gpt-4o", input=items)).notes
    assert [note.split(",")[0] for note in notes] == [
        "input[0] has “name”",
        "input[2] has “tool_calls”",
    ]

"""The redaction rules (inspector/redaction.py), case by case."""

import io
import itertools
import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command

from inspector import redaction, store

R = redaction.PLACEHOLDER.format


@pytest.mark.parametrize(
    ("text", "redacted", "rule"),
    [
        ("key sk-proj-abcDEF0123456789xyzXYZ and more", f"key {R('openai-key')} and more",
         "openai-key"),
        ("sk-svcacct-AAAAbbbbCCCCdddd1234", R("openai-key"), "openai-key"),
        ("sk-0123456789abcdefABCDEF", R("openai-key"), "openai-key"),
        ("sk-ant-api03-abcdefghijklmnop", R("anthropic-key"), "anthropic-key"),
        ("Authorization: Bearer abc.DEF-123_456~xyz", f"Authorization: Bearer {R('bearer')}",
         "bearer"),
        ("basic dXNlcjpwYXNzd29yZA==", f"basic {R('bearer')}", "bearer"),
        ("token ghp_" + "a1" * 18, f"token {R('github-token')}", "github-token"),
        ("github_pat_" + "B2_" * 12, R("github-token"), "github-token"),
        ("id AKIAIOSFODNN7EXAMPLE.", f"id {R('aws-access-key')}.", "aws-access-key"),
        ("aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
         f"aws_secret_access_key = {R('aws-secret')}", "aws-secret"),
        ("sk_live_" + "4eC39HqLyjWDarjtT1zdp7dc", R("stripe-key"), "stripe-key"),
        ("rk_test_" + "abcdefghijklmnop12", R("stripe-key"), "stripe-key"),
        ("xoxb-123456789012-abcdefABCDEF", R("slack-token"), "slack-token"),
        ("AIza" + "SyA-1234567890abcdefghijklmnopqrstu", R("google-api-key"), "google-api-key"),
        ("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
         R("jwt"), "jwt"),
        ("-----BEGIN RSA PRIVATE KEY-----\nMIIE\nabc\n-----END RSA PRIVATE KEY----- after",
         f"{R('private-key')} after", "private-key"),
        ('{"password": "hunter2", "user": "bob"}',
         f'{{"password": "{R("secret-field")}", "user": "bob"}}', "secret-field"),
        ('{"X-Api-Key":"abc\\"def", "db_password": "p"}',
         f'{{"X-Api-Key":"{R("secret-field")}", "db_password": "{R("secret-field")}"}}',
         "secret-field"),
    ],
)  # fmt: skip
def test_each_rule_finds_its_secret(text, redacted, rule):
    result, counts = redaction.redact_text(text)
    assert result == redacted
    assert counts[rule] >= 1


@pytest.mark.parametrize(
    "text",
    [
        "Bearer instruments and bearer bonds",  # no digit or symbol: prose
        "the token count is 12 tokens; max_output_tokens",
        "sk-short",
        "ask-questions-about-everything-here",  # sk- not at a word start
        '{"token": "Hello", "logprob": -0.1}',  # logprob tokens are not secrets
        '{"input_tokens": "12", "prompt_cache_key": "user-42"}',
        "AKIAshort and eyJnot.a.jwt",
        '{"password": ""}',  # nothing to hide
    ],
)
def test_ordinary_text_is_left_alone(text):
    assert redaction.redact_text(text) == (text, Counter())


def test_redact_walks_json_and_redacts_secret_fields_whatever_their_value_looks_like():
    tools = [
        {
            "type": "mcp",
            "server_label": "billing",
            "authorization": "plain-looking-value",
            "headers": {"X-Api-Key": "k", "User-Agent": "agent/1.0", "Cookie": "session=1"},
        },
        {"type": "function", "name": "login", "parameters": {"password": {"type": "string"}}},
    ]
    arguments = '{"user": "bob", "password": "hunter2", "note": "Bearer abcdef123456789"}'
    value = {"tools": tools, "output": [{"type": "function_call", "arguments": arguments}]}
    result, counts = redaction.redact(value)
    assert result["tools"][0]["authorization"] == R("secret-field")
    assert result["tools"][0]["headers"] == {
        "X-Api-Key": R("secret-field"),
        "User-Agent": "agent/1.0",
        "Cookie": R("secret-field"),
    }
    assert result["tools"][1] == tools[1]  # a schema named "password" is not a secret
    assert result["output"][0]["arguments"] == (
        f'{{"user": "bob", "password": "{R("secret-field")}", "note": "Bearer {R("bearer")}"}}'
    )
    assert counts == Counter({"secret-field": 4, "bearer": 1})
    assert value["tools"][0]["authorization"] == "plain-looking-value"  # a copy, not in place
    assert redaction.summary(counts) == "4 secret-field, 1 bearer"


def test_mask_removes_one_known_secret_everywhere_keys_included():
    secret = "abc123SECRET"
    value = {"a": f"x {secret} y", secret: [secret, 1, None], "b": {"c": "clean"}}
    masked = redaction.mask(value, secret)
    assert masked == {
        "a": "x [OPENAI_API_KEY] y",
        "[OPENAI_API_KEY]": ["[OPENAI_API_KEY]", 1, None],
        "b": {"c": "clean"},
    }
    assert redaction.mask(value, "") is value
    assert redaction.mask(value, "absent") is value


def test_the_rules_table_names_every_rule_once():
    names = [name for name, _ in redaction.rules_table()]
    assert names == [*(rule.name for rule in redaction.RULES), "secret-field"]
    assert len(set(names)) == len(names)


def test_the_readme_lists_the_rules_table_row_for_row():
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    lines = readme[readme.index("| rule | finds |") :].splitlines()[2:]
    rows = []
    for line in itertools.takewhile(lambda line: line.strip().startswith("|"), lines):
        name, what = line.strip()[1:-1].split("|", 1)
        rows.append((name.strip().strip("`"), what.strip()))
    assert rows == redaction.rules_table()


# --- exports redact by default ----------------------------------------------------------

SECRET = "sk-proj-" + "Z9" * 12
SECRET_BUNDLE = {
    "id": "resp_secrets",
    "object": "response",
    "created_at": 1767225600,
    "status": "completed",
    "model": "gpt-5",
    "tools": [{"type": "mcp", "server_label": "crm", "server_url": "https://crm.invalid/mcp",
               "authorization": "opaque-token-value", "headers": {"X-Api-Key": "k-123"}}],
    "output": [{"type": "function_call", "id": "fc_1", "call_id": "call_1", "name": "deploy",
                "arguments": json.dumps({"env": "prod", "api_key": SECRET}),
                "status": "completed"}],
}  # fmt: skip


@pytest.fixture
def with_secrets(db: Any) -> str:
    store.save_bundle(SECRET_BUNDLE, [], source="import")
    return SECRET_BUNDLE["id"]


def test_the_json_export_redacts_tool_arguments_and_mcp_credentials_by_default(
    logged_in, with_secrets
):
    answer = logged_in.get(f"/responses/{with_secrets}.json")
    text = answer.content.decode()
    assert SECRET not in text and "opaque-token-value" not in text and "k-123" not in text
    bundle = json.loads(text)
    assert bundle["redacted"] == {"secret-field": 3}
    assert json.loads(bundle["response"]["output"][0]["arguments"]) == {
        "env": "prod",
        "api_key": R("secret-field"),
    }
    trace = json.loads(logged_in.get(f"/responses/{with_secrets}/trace.json").content)
    assert trace["redacted"] == {"secret-field": 3}


def test_the_markdown_export_redacts_and_says_so_on_its_last_line(logged_in, with_secrets):
    text = logged_in.get(f"/responses/{with_secrets}.md").content.decode()
    assert SECRET not in text
    assert text.rstrip().endswith("Secrets redacted: 1 secret-field.")


def test_unredacted_exports_are_refused_to_users_without_the_permission(
    logged_in, with_secrets, django_user_model
):
    viewer = django_user_model.objects.create_user("vic", password="a-long-test-password-42")
    viewer.groups.add(Group.objects.get(name="fetcher"))
    logged_in.force_login(viewer)
    assert logged_in.get(f"/responses/{with_secrets}.json?redact=0").status_code == 403
    admin = django_user_model.objects.create_superuser("root", "", "a-long-test-password-42")
    logged_in.force_login(admin)
    raw = logged_in.get(f"/responses/{with_secrets}.json?redact=0").content.decode()
    assert SECRET in raw and "redacted" not in json.loads(raw)
    assert SECRET in logged_in.get(f"/responses/{with_secrets}.md?redact=off").content.decode()


def test_the_export_command_redacts_unless_told_not_to(with_secrets):
    redacted, raw = io.StringIO(), io.StringIO()
    call_command("export_responses", stdout=redacted, stderr=io.StringIO())
    call_command("export_responses", "--no-redact", stdout=raw, stderr=io.StringIO())
    assert SECRET not in redacted.getvalue()
    assert json.loads(redacted.getvalue())["redacted"] == {"secret-field": 3}
    assert SECRET in raw.getvalue()
    assert json.loads(raw.getvalue())["response"] == SECRET_BUNDLE


# --- blobs: encrypted content and base64 images are never redacted into ------------------

REAL = Path(__file__).resolve().parent.parent / ".." / "shared" / "real-world"
REAL_FILES = sorted((REAL / "responses").glob("*.json"))
OPENAI_KEY = next(rule for rule in redaction.RULES if rule.name == "openai-key").pattern


def real_blob(name: str, needle: str) -> tuple[str, int]:
    """A real encrypted_content, and where `needle` sits in it."""
    body = json.loads((REAL / "responses" / f"{name}.json").read_text())
    blob = next(i["encrypted_content"] for i in body["output"] if needle in str(i))
    return blob, blob.index(needle)


@pytest.mark.skipif(not REAL_FILES, reason=f"no real-world data in {REAL.resolve()}")
@pytest.mark.parametrize(
    ("name", "needle"),
    [
        ("test_openai_responses_model_web_search_tool_stream_1", "Osk-z0QBLQ"),
        ("test_openai_responses_model_thinking_part_1", "Esk-Iwfg"),
    ],
)
def test_a_key_shaped_run_inside_real_encrypted_reasoning_is_left_alone(name, needle):
    blob, at = real_blob(name, needle)
    assert redaction.redact_text(blob) == (blob, Counter())
    # With a `-` before it (a base64url character, equally likely there), the openai-key
    # pattern finds a key in the blob: the guard is what keeps the blob whole.
    risky = blob[:at] + "-" + blob[at + 1 :]
    assert OPENAI_KEY.search(risky)
    assert redaction.redact_text(risky) == (risky, Counter())
    assert redaction.redact({"encrypted_content": risky}) == (
        {"encrypted_content": risky},
        Counter(),
    )


@pytest.mark.skipif(not REAL_FILES, reason=f"no real-world data in {REAL.resolve()}")
def test_every_real_response_and_stream_exports_unchanged():
    paths = [*REAL_FILES, *sorted((REAL / "streams").glob("*.sse.txt"))]
    for path in paths:
        text = path.read_text()
        value = json.loads(text) if path.suffix == ".json" else text
        redacted, counts = redaction.redact(value)
        # MCP `authorization` fields (already "<redacted>" upstream) are secret fields.
        assert set(counts) <= {redaction.FIELD}, path.name
        if not counts:
            assert redacted == value, path.name


@pytest.mark.parametrize(
    "text",
    [
        "OPENAI_API_KEY=sk-proj-abcDEF0123456789xyzXYZ",
        "MY_COMPANY_PRODUCTION_OPENAI_API_KEY=sk-proj-abcDEF0123456789xyzXYZ\nnext",
        "curl -H 'Authorization: Bearer sk-abcDEF0123456789xyzXYZ' https://api.openai.com",
        "https://example.com/hook?key=sk-abcDEF0123456789xyzXYZ&x=1",
        "see /keys/sk-abcDEF0123456789xyzXYZ/rotate",
        "data:text/plain;base64,c2stYWJj sk-abcDEF0123456789xyzXYZ",
    ],
)
def test_a_key_in_text_is_still_redacted_next_to_base64_characters(text):
    redacted, counts = redaction.redact_text(text)
    assert "sk-abcDEF0123456789xyzXYZ" not in redacted and "sk-proj-abc" not in redacted
    assert sum(counts.values()) == 1


@pytest.mark.parametrize(
    ("text", "start", "end", "inside"),
    [
        ("A" * 200 + "/sk-" + "B" * 20 + "/" + "C" * 200, 201, 224, True),
        ("A" * 15 + "=sk-" + "B" * 20, 16, 39, False),  # an env line: nothing after
        ("A" * 100 + "/sk-" + "B" * 20 + "/" + "C" * 10, 101, 124, False),  # too little after
        ("A" * 130 + "-sk-" + "B" * 20, 131, 154, True),  # base64url: the match runs to the end
        ("-sk-" + "B" * 300, 1, 304, True),  # longer than any credential
        ("x sk-" + "B" * 300, 2, 305, True),
        ("x " + "sk-" + "B" * 20 + " y", 2, 25, False),
    ],
)
def test_a_match_is_inside_a_blob_only_with_base64_all_around_it(text, start, end, inside):
    assert redaction.inside_blob(text, start, end) is inside


def test_a_shell_containers_domain_secret_values_are_redacted_and_counted():
    tool = {
        "type": "shell",
        "environment": {
            "type": "container_auto",
            "network_policy": {
                "type": "allowlist",
                "allowed_domains": ["api.github.com"],
                "domain_secrets": [
                    {"domain": "api.github.com", "name": "GITHUB_TOKEN", "value": "plain-words"}
                ],
            },
        },
    }
    redacted, counts = redaction.redact({"tools": [tool]})
    [secret] = redacted["tools"][0]["environment"]["network_policy"]["domain_secrets"]
    assert secret == {
        "domain": "api.github.com",
        "name": "GITHUB_TOKEN",
        "value": R("secret-field"),
    }
    assert counts == Counter({"secret-field": 1})

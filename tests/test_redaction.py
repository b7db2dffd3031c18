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

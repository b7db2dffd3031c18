"""The lookup box: an id or a platform URL opens the response; anything else says why."""

import pytest

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "typed",
    [
        "resp_abc123",
        "  resp_abc123  ",
        "https://platform.openai.com/logs/resp_abc123",
        "https://platform.openai.com/logs/resp_abc123?project=proj_1",
    ],
)
def test_lookup_by_id_or_platform_url_redirects_to_the_response_page(logged_in, typed):
    response = logged_in.get("/lookup/", {"q": typed})
    assert response.status_code == 302
    assert response["Location"] == "/responses/resp_abc123/"


@pytest.mark.parametrize(
    ("typed", "shown"),
    [
        ("../etc/passwd", 'value="../etc/passwd"'),
        (
            '<script>alert("x")</script>',
            'value="&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;"',
        ),
        ("resp_" + "a" * 130, 'value="resp_' + "a" * 130 + '"'),
    ],
)
def test_a_bad_id_says_why_with_status_400_and_keeps_the_typed_text(
    logged_in, upstream, typed, shown
):
    response = logged_in.get("/lookup/", {"q": typed})
    assert response.status_code == 400
    page = response.content.decode()
    assert "A response id has only letters, digits, &#x27;_&#x27; and &#x27;-&#x27;" in page
    assert shown in page
    assert "<script>alert" not in page
    assert upstream.requests == []


def test_an_unsafe_id_in_the_path_is_not_a_route(logged_in, upstream):
    assert logged_in.get("/responses/resp_a%2F..%2Fx/").status_code == 404
    assert upstream.requests == []

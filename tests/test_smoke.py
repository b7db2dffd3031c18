import pytest

pytestmark = pytest.mark.django_db


def test_healthz_answers_without_login(client):
    assert client.get("/healthz").content == b"ok\n"


def test_list_requires_login(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_first_view_fetches_and_second_reads_the_store(logged_in, upstream):
    upstream.add(
        {
            "id": "resp_abc",
            "object": "response",
            "created_at": 1767225600,
            "model": "gpt-5",
            "status": "completed",
            "output": [],
            "tools": [],
            "tool_choice": "auto",
            "parallel_tool_calls": True,
        },
        [
            {
                "id": f"msg_{i}",
                "type": "message",
                "role": "user",
                "content": [{"type": "input_text", "text": f"hello {i}"}],
            }
            for i in range(250)
        ],
    )
    first = logged_in.get("/responses/resp_abc/")
    assert first.status_code == 200
    assert len(upstream.requests) == 2  # the response and its first page of input items
    logged_in.get("/responses/resp_abc/")
    assert len(upstream.requests) == 2
    assert b"hello 0" in first.content

import pytest

from inspector import store

pytestmark = pytest.mark.django_db(transaction=True)


def test_response_page_opens_with_no_console_errors_or_csp_violations(watched):
    store.save_bundle(
        {"id": "resp_browser1", "object": "response", "model": "gpt-5", "status": "completed",
         "output": [], "tools": []},
        [{"id": "msg_1", "type": "message", "role": "user",
          "content": [{"type": "input_text", "text": "<script>window.__pwned=1</script>"}]}],
        source="demo",
    )
    watched.goto("/responses/resp_browser1/")
    assert watched.page.locator("#response-id").inner_text() == "resp_browser1"
    assert watched.page.evaluate("window.__pwned") is None
    watched.assert_clean()

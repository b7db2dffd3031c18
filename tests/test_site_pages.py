"""The frame every page shares (templates/base.html): the top bar, and the error pages in
it, styled like the rest in both themes."""

import pytest
from django.test import Client, RequestFactory
from django.views.defaults import server_error

from tests.test_roles import make_user


@pytest.mark.django_db
def test_an_unknown_path_gets_the_styled_not_found_page(logged_in):
    response = logged_in.get("/no-such-page/")
    html = response.content.decode()
    assert response.status_code == 404
    assert "inspector.css" in html
    assert '<h1 id="missing-h">Not found</h1>' in html
    assert "<code>/no-such-page/</code>" in html
    assert 'id="lookup-q"' in html  # the top bar, with the lookup box


@pytest.mark.django_db
def test_a_missing_item_says_what_is_missing(logged_in):
    from inspector import store

    store.save_bundle({"id": "resp_a", "object": "response", "output": []}, [], source="demo")
    html = logged_in.get("/responses/resp_a/items/output/9/").content.decode()
    assert "No such item in this response." in html
    assert "Resolver404" not in html


@pytest.mark.django_db
def test_the_not_found_page_asks_a_stranger_to_log_in():
    response = Client().get("/no-such-page/")
    html = response.content.decode()
    assert response.status_code == 404
    assert 'href="/accounts/login/">log in</a>' in html
    assert 'id="lookup-q"' not in html


def test_the_server_error_page_is_styled_and_needs_no_database_and_no_user():
    # No django_db mark: any query would fail this test.
    response = server_error(RequestFactory().get("/anything/"))
    html = response.content.decode()
    assert response.status_code == 500
    assert "inspector.css" in html
    assert "Something went wrong on this server" in html
    assert "Log out" not in html


@pytest.mark.django_db
def test_the_forbidden_page_is_styled(django_user_model):
    client = Client()
    client.force_login(make_user(django_user_model, "viewer"))
    response = client.get("/import/")
    assert response.status_code == 403
    assert "inspector.css" in response.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize(("role", "linked"), [("superuser", True), ("admin", False)])
def test_the_top_bar_links_the_pattern_page_for_staff_only(django_user_model, role, linked):
    client = Client()
    client.force_login(make_user(django_user_model, role))
    html = client.get("/").content.decode()
    assert ('<a href="/patterns/">Patterns</a>' in html) is linked


@pytest.mark.django_db
def test_every_page_starts_with_a_link_past_the_top_bar(logged_in):
    html = logged_in.get("/").content.decode()
    assert html.index('class="skip-link" href="#main"') < html.index('class="topbar"')
    assert '<main id="main" tabindex="-1">' in html


@pytest.mark.django_db
def test_user_and_model_text_is_isolated_for_right_to_left_scripts(logged_in):
    from inspector import store

    arabic = "ممنوع التصوير"
    message = {"type": "message", "id": "msg_1", "role": "assistant", "status": "completed",
               "content": [{"type": "output_text", "text": arabic, "annotations": []}]}  # fmt: skip
    user = {"type": "message", "id": "msg_0", "role": "user",
            "content": [{"type": "input_text", "text": f"שלום\n{arabic}"}]}  # fmt: skip
    store.save_bundle(
        {"id": "resp_rtl", "object": "response", "output": [message]}, [user], source="demo"
    )
    html = logged_in.get("/responses/resp_rtl/").content.decode()
    assert f'<div class="markdown" dir="auto"><p>{arabic}</p>' in html
    assert '<bdi class="who">alice</bdi>' in html

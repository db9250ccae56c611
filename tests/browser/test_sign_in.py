"""The browser set-up itself, through the first thing every user does: sign in, land on a page, sign out."""

from __future__ import annotations


def test_a_caseworker_signs_in_lands_on_an_accessible_page_and_signs_out(
    page, live_server, sign_in, users, assert_accessible
):
    page.goto(live_server + "/")
    assert "/login" in page.url
    assert_accessible(page)

    sign_in(page, users["caseworker"])
    assert page.get_by_role("navigation").count() >= 1
    assert_accessible(page)

    page.get_by_role("button", name="Sign out").click()
    page.wait_for_load_state()
    page.goto(live_server + "/participants/")
    assert "/login" in page.url


def test_a_wrong_password_is_refused_with_one_plain_message(page, live_server, users, assert_accessible):
    page.goto(live_server + "/login")
    page.get_by_label("Email").fill(users["police"].email)
    page.get_by_label("Password").fill("not the password at all")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()
    assert "/login" in page.url
    assert page.get_by_role("alert").count() + page.locator(".flash, .error, .errors").count() >= 1
    assert_accessible(page)

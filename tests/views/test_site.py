"""The start page, the language switch and the error pages, through the real app."""


def test_anonymous_start_page_sends_to_login(testapp):
    response = testapp.get("/", status=302)
    assert response.location.endswith("/login")


def test_language_switch_sets_cookie_and_returns(testapp):
    response = testapp.get("/lang/en", params={"next": "/plan"}, status=302)
    assert response.location.endswith("/plan")
    assert "lang=en" in response.headers["Set-Cookie"]


def test_language_switch_never_redirects_off_site(testapp):
    response = testapp.get("/lang/en", params={"next": "//evil.example/x"}, status=302)
    assert response.location == "http://example.com/"


def test_unknown_page_is_404_in_chinese_then_english(testapp):
    assert "找不到此页面" in testapp.get("/no-such-page", status=404).text
    testapp.set_cookie("lang", "en")
    assert "This page does not exist" in testapp.get("/no-such-page", status=404).text


def test_unknown_api_path_is_json_404(testapp):
    response = testapp.get("/api/nothing-here", status=404)
    assert response.json == {"error": "not found"}

"""The OpenAPI document: valid 3.1, and in step with the routes and views the app really has."""
from __future__ import annotations

import re

from openapi_spec_validator import validate
from pyramid.interfaces import IRoutesMapper

from views.api.spec import SAFE_METHODS


def api_route_paths(app) -> dict[str, str]:
    mapper = app.registry.getUtility(IRoutesMapper)
    return {route.name: route.pattern for route in mapper.get_routes() if route.name.startswith("api_")}


def api_views(app) -> set[tuple[str, str]]:
    """(route name, method) of every view the app registered on an api_* route."""
    found = set()
    for item in app.registry.introspector.get_category("views"):
        view = item["introspectable"]
        route_name = view["route_name"]
        if route_name and route_name.startswith("api_"):
            methods = view["request_methods"]
            assert methods, f"the view on {route_name} answers any method: declare one with api_view"
            found.update((route_name, method) for method in ([methods] if isinstance(methods, str) else methods))
    return found


def test_document_is_valid_openapi_3_1(testapp):
    document = testapp.get("/api/openapi.json").json
    assert document["openapi"].startswith("3.1")
    validate(document)  # raises on any structural or schema error


def test_every_api_route_has_a_path_and_every_path_a_route(app, testapp):
    document = testapp.get("/api/openapi.json").json
    assert set(document["paths"]) == set(api_route_paths(app).values())


def test_every_api_view_is_documented_and_every_operation_served(app, testapp):
    document = testapp.get("/api/openapi.json").json
    routes_by_path = {pattern: name for name, pattern in api_route_paths(app).items()}
    operations = {
        (routes_by_path[path], method.upper())
        for path, item in document["paths"].items()
        for method in item
    }
    assert operations == api_views(app) - {(name, "HEAD") for name, _ in operations}


def test_every_operation_has_an_id_a_summary_responses_and_its_path_parameters(testapp):
    document = testapp.get("/api/openapi.json").json
    ids = []
    for path, item in document["paths"].items():
        for method, operation in item.items():
            ids.append(operation["operationId"])
            assert operation["summary"]
            assert operation["responses"], f"{method} {path} has no responses"
            assert any(status.startswith("2") for status in operation["responses"])
            declared = {p["name"] for p in operation["parameters"] if p["in"] == "path"}
            assert declared == set(re.findall(r"\{(\w+)\}", path))
            if method.upper() not in SAFE_METHODS:
                assert operation["security"] == [{"session": [], "csrf": []}]
                assert "403" in operation["responses"]
    assert len(ids) == len(set(ids))


def test_private_operations_declare_their_permission(testapp):
    document = testapp.get("/api/openapi.json").json
    public = {
        op["operationId"]
        for item in document["paths"].values()
        for op in item.values()
        if "x-permission" not in op
    }
    assert public == {"get_openapi", "get_docs", "get_session", "get_compound", "post_compound_report",
                      "post_compound_withdraw"}


def test_docs_page_lists_every_operation_and_loads_nothing_from_elsewhere(testapp):
    document = testapp.get("/api/openapi.json").json
    page = testapp.get("/api/docs")
    listed = {
        (row.select("td")[0].get_text(strip=True), row.select("td")[1].get_text(strip=True))
        for row in page.html.select("table.api-index tbody tr")
    }
    assert listed == {(method.upper(), path) for path, item in document["paths"].items() for method in item}
    for tag, attribute in (("script", "src"), ("link", "href"), ("img", "src")):
        for element in page.html.find_all(tag):
            if element.get(attribute):
                assert element[attribute].startswith("http://example.com/"), element
    assert "JSON 接口说明" in page.text
    testapp.set_cookie("lang", "en")
    assert "JSON API" in testapp.get("/api/docs").text

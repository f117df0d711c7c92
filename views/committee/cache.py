"""The committee page served from memory: what a whole compound opens when the message arrives.

A tween above the transaction manager answers ``GET /c/{token}`` from pages rendered earlier,
keyed by host, path, query, language and today's date, as long as the page generation they were
rendered at (``trucks.page_generation``: one row that every write of page facts moves) is
still current. That one primary-key read is all the database work of a hit; a publication, a
driver's report or a committee report moves the generation, and the next request renders
afresh, so a change shows at once, from whichever process made it.

Responses carry an ``ETag`` of the body and ``Cache-Control: private, no-cache``: a phone that
reloads asks again and gets ``304 Not Modified`` while nothing changed. The page holds no
session data (no CSRF token, no user menu), so one rendering serves every visitor.
"""
from __future__ import annotations

import hashlib
import re
import threading
from collections import OrderedDict
from dataclasses import dataclass

from pyramid.response import Response

from trucks.live import local_today
from trucks.page_generation import current_generation

from ..security import content_security_policy

PAGE_PATH = re.compile(r"/c/[A-Za-z0-9_-]+")
#: about 30 kB each: 20,000 pages (3,000 compounds, two languages, a few dates) stay under 600 MB
DEFAULT_MAX_PAGES = 20_000
KEPT_HEADERS = ("Content-Type", "X-Content-Type-Options", "X-Frame-Options", "Referrer-Policy")
CACHE_CONTROL = "private, no-cache"


@dataclass(frozen=True)
class CachedPage:
    generation: int
    etag: str
    body: bytes
    headers: tuple[tuple[str, str], ...]


class PageCache:
    """Rendered pages by key, least recently used dropped first; safe across waitress's threads."""

    def __init__(self, max_pages: int = DEFAULT_MAX_PAGES) -> None:
        self.max_pages = max_pages
        self.pages: OrderedDict[tuple, CachedPage] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key: tuple, generation: int) -> CachedPage | None:
        with self.lock:
            page = self.pages.get(key)
            if page is None or page.generation != generation:
                return None
            self.pages.move_to_end(key)
            return page

    def put(self, key: tuple, page: CachedPage) -> None:
        with self.lock:
            self.pages[key] = page
            self.pages.move_to_end(key)
            while len(self.pages) > self.max_pages:
                self.pages.popitem(last=False)


def _generation(request, engine) -> int:
    """The committed generation, or the one a test's shared session sees (as ``request.dbsession``)."""
    session = request.environ.get("app.dbsession")
    if session is not None:
        return current_generation(session.connection())
    with engine.connect() as connection:
        return current_generation(connection)


def _answer(request, page: CachedPage) -> Response:
    if page.etag in (request.if_none_match or ()):
        response = Response(status=304)
        response.headers.pop("Content-Type", None)  # a 304 has no content
    else:
        response = Response(headerlist=list(page.headers))
        response.body = page.body if request.method == "GET" else b""
        response.content_length = len(page.body)
    response.headers["ETag"] = f'"{page.etag}"'
    response.headers["Cache-Control"] = CACHE_CONTROL
    response.headers["Vary"] = "Cookie"  # the language is the lang cookie
    response.headers["Content-Security-Policy"] = content_security_policy(request.csp_nonce)
    return response


def committee_page_cache_tween_factory(handler, registry):
    settings = registry.settings
    if str(settings.get("foodtrucks.committee_page_cache", "true")).lower() in ("false", "off", "0", "no"):
        return handler
    cache = PageCache(int(settings.get("foodtrucks.committee_page_cache_size") or DEFAULT_MAX_PAGES))
    registry["committee_page_cache"] = cache
    engine = registry["dbsession_factory"].kw["bind"]

    def committee_page_cache_tween(request):
        if request.method not in ("GET", "HEAD") or not PAGE_PATH.fullmatch(request.path_info):
            return handler(request)
        # links in the page are absolute: the host is part of what was rendered
        key = (request.host_url, request.path_info, request.query_string, request.language, local_today())
        generation = _generation(request, engine)
        page = cache.get(key, generation)
        if page is None:
            response = handler(request)
            if response.status_code != 200 or "Set-Cookie" in response.headers or request.method != "GET":
                return response
            body = response.body
            headers = tuple((name, response.headers[name]) for name in KEPT_HEADERS if name in response.headers)
            page = CachedPage(generation, hashlib.sha1(body).hexdigest()[:20], body, headers)
            cache.put(key, page)
        return _answer(request, page)

    return committee_page_cache_tween


def includeme(config) -> None:
    """Above pyramid_tm: a hit opens no transaction and no session."""
    config.add_tween("views.committee.cache.committee_page_cache_tween_factory", over="pyramid_tm.tm_tween_factory")

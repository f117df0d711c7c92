"""The committee page served from memory: what a whole compound opens when the message arrives.

A tween above the transaction manager answers ``GET /c/{token}`` from pages rendered earlier,
keyed by host, path, query, language and today's date, as long as the generation of the page's
compound they were rendered at (``trucks.page_generation``: every write of what a page shows
moves the generations of the compounds it may change) is still current. Reading that number, one
indexed row found by the token, is all the database work of a hit; a publication, a driver's
report or a committee report moves it, and the next request renders afresh, so a change shows
at once, from whichever process made it. A publication of one retailer leaves the other
retailers' pages cached.

Requests that find the page being rendered wait for that rendering instead of rendering it
again: when a message reaches a compound's group, its residents open one page at once.

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
from trucks.page_generation import generation_sql, page_generation

PAGE_PATH = re.compile(r"/c/([A-Za-z0-9_-]+)")
#: about 30 kB each: 20,000 pages (3,000 compounds, two languages, a few dates) stay under 600 MB
DEFAULT_MAX_PAGES = 20_000
KEPT_HEADERS = ("Content-Type", "X-Content-Type-Options", "X-Frame-Options", "Referrer-Policy")
CACHE_CONTROL = "private, no-cache"
#: how long a request waits for another one's rendering of its page before rendering it itself
RENDER_WAIT_SECONDS = 10


@dataclass(frozen=True)
class CachedPage:
    generation: int
    etag: str
    body: bytes
    #: everything a 200 answer sends but the Content-Security-Policy (``views.security`` adds it)
    headers: tuple[tuple[str, str], ...]

    @classmethod
    def of(cls, generation: int, response) -> CachedPage:
        body = response.body
        etag = hashlib.sha1(body).hexdigest()[:20]
        kept = tuple((name, response.headers[name]) for name in KEPT_HEADERS if name in response.headers)
        return cls(generation, etag, body, kept + (("Content-Length", str(len(body))),) + _validators(etag))


def _validators(etag: str) -> tuple[tuple[str, str], ...]:
    return ("ETag", f'"{etag}"'), ("Cache-Control", CACHE_CONTROL), ("Vary", "Cookie")  # the language is a cookie


class PageCache:
    """Rendered pages by key, least recently used dropped first, and the renderings under way;
    safe across waitress's threads."""

    def __init__(self, max_pages: int = DEFAULT_MAX_PAGES) -> None:
        self.max_pages = max_pages
        self.pages: OrderedDict[tuple, CachedPage] = OrderedDict()
        self.rendering: dict[tuple, threading.Event] = {}
        self.lock = threading.Lock()

    def get(self, key: tuple, generation: int) -> CachedPage | None:
        with self.lock:
            page = self.pages.get(key)
            if page is None or page.generation != generation:
                return None
            self.pages.move_to_end(key)
            return page

    def claim(self, key: tuple, generation: int) -> threading.Event | None:
        """None when the caller is to render the page (and then call ``rendered``), else the
        event that another request's rendering of it sets."""
        with self.lock:
            under_way = self.rendering.get((key, generation))
            if under_way is None:
                self.rendering[(key, generation)] = threading.Event()
            return under_way

    def rendered(self, key: tuple, generation: int, page: CachedPage | None) -> None:
        """Keeps the page (None: the answer was not one to keep) and wakes those who waited."""
        with self.lock:
            if page is not None:
                self.pages[key] = page
                self.pages.move_to_end(key)
                while len(self.pages) > self.max_pages:
                    self.pages.popitem(last=False)
            self.rendering.pop((key, generation)).set()


class GenerationReader:
    """A page's generation, read on a pooled DBAPI connection outside any transaction of the
    app's (SQLite: autocommit; PostgreSQL: a statement the pool rolls back), so it is the last
    committed one."""

    def __init__(self, engine) -> None:
        self.engine = engine
        self.sql = generation_sql(engine.dialect)

    def __call__(self, request, token: str) -> int | None:
        session = request.environ.get("app.dbsession")  # a test's shared session, as request.dbsession
        if session is not None:
            return page_generation(session.connection(), token)
        connection = self.engine.raw_connection()
        try:
            cursor = connection.cursor()
            cursor.execute(self.sql, (token,))
            row = cursor.fetchone()
            cursor.close()
        finally:
            connection.close()
        return None if row is None else row[0]


def _answer(request, page: CachedPage) -> Response:
    if "HTTP_IF_NONE_MATCH" in request.environ and page.etag in request.if_none_match:
        return Response(status=304, headerlist=list(_validators(page.etag)))
    return Response(headerlist=list(page.headers), app_iter=[page.body] if request.method == "GET" else [])


def _render(handler, request, generation: int) -> tuple[CachedPage | None, Response]:
    """The view's answer, and the page to keep of it (None: an error, or a session cookie set)."""
    response = handler(request)
    keep = response.status_code == 200 and "Set-Cookie" not in response.headers
    return (CachedPage.of(generation, response) if keep else None), response


def _render_once(cache: PageCache, key: tuple, generation: int, handler, request):
    """Renders the page unless another request is rendering it already: then waits for that."""
    under_way = cache.claim(key, generation)
    if under_way is not None:
        under_way.wait(RENDER_WAIT_SECONDS)
        page = cache.get(key, generation)
        return (page, None) if page is not None else _render(handler, request, generation)
    page = None
    try:
        page, response = _render(handler, request, generation)
    finally:
        cache.rendered(key, generation, page)
    return page, response


def committee_page_cache_tween_factory(handler, registry):
    settings = registry.settings
    if str(settings.get("foodtrucks.committee_page_cache", "true")).lower() in ("false", "off", "0", "no"):
        return handler
    cache = PageCache(int(settings.get("foodtrucks.committee_page_cache_size") or DEFAULT_MAX_PAGES))
    registry["committee_page_cache"] = cache
    read_generation = GenerationReader(registry["dbsession_factory"].kw["bind"])

    def committee_page_cache_tween(request):
        method = request.method
        found = PAGE_PATH.fullmatch(request.path_info) if method in ("GET", "HEAD") else None
        if found is None:
            return handler(request)
        generation = read_generation(request, found.group(1))
        if generation is None:  # no compound has this link: the view says 404
            return handler(request)
        # links in the page are absolute: the host is part of what was rendered
        key = (request.host_url, request.path_info, request.query_string, request.language, local_today())
        page = cache.get(key, generation)
        if page is None:
            if method != "GET":
                return handler(request)
            page, response = _render_once(cache, key, generation, handler, request)
            if page is None:
                return response
        return _answer(request, page)

    return committee_page_cache_tween


def includeme(config) -> None:
    """Above pyramid_tm: a hit opens no transaction and no session."""
    config.add_tween("views.committee.cache.committee_page_cache_tween_factory", over="pyramid_tm.tm_tween_factory")

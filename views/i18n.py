"""Chinese first, English on request: message catalogs keyed by name.

Catalogs are ``views/locale/*.json``, one per area, each ``{"key": {"zh": "…", "en": "…"}}``.
The language is the ``lang`` cookie (set by the switch link), else Chinese. Templates call
``t("key", name=value)``; Python calls ``request.t("key", ...)``.
"""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import jinja2

LANGUAGES = ("zh", "en")
DEFAULT_LANGUAGE = "zh"
LOCALE_DIR = Path(__file__).parent / "locale"


@lru_cache(maxsize=1)
def catalog() -> dict[str, dict[str, str]]:
    merged: dict[str, dict[str, str]] = {}
    for path in sorted(LOCALE_DIR.glob("*.json")):
        for key, texts in json.loads(path.read_text(encoding="utf-8")).items():
            if key in merged:
                raise ValueError(f"{path.name}: message {key!r} is defined twice")
            merged[key] = texts
    return merged


def translate(key: str, language: str, **values) -> str:
    texts = catalog().get(key)
    if texts is None:
        raise KeyError(f"no message {key!r} in views/locale")
    text = texts.get(language) or texts[DEFAULT_LANGUAGE]
    return text.format(**values) if values else text


def negotiate_language(request) -> str:
    language = request.cookies.get("lang")
    return language if language in LANGUAGES else DEFAULT_LANGUAGE


@jinja2.pass_context
def _template_translate(context, key: str, **values) -> str:
    return translate(key, context["request"].language, **values)


def category_name(request, category) -> str:
    """A category's display name in the request's language."""
    return category.name_en if request.language == "en" else category.name_zh


def includeme(config) -> None:
    config.add_request_method(negotiate_language, "language", reify=True)
    config.add_request_method(
        lambda request, key, **values: translate(key, request.language, **values), "t"
    )
    config.add_jinja2_search_path("views:templates", name=".jinja2")

    def add_globals():
        env = config.get_jinja2_environment()
        env.globals["t"] = _template_translate
        env.globals["LANGUAGES"] = LANGUAGES

    config.action(None, add_globals, order=999)

"""The web layer: the app factory, routes, views, templates and the JSON API."""
import gc
from functools import cache

from pyramid.config import Configurator
from pyramid.renderers import JSON


def main(global_config, **settings):
    """The WSGI app: composes the packages' includes and scans for views."""
    with Configurator(settings=settings) as config:
        config.include("trucks")
        config.include("views")
        config.scan("views")
    app = config.make_wsgi_app()
    _freeze_startup_objects()
    return app


@cache
def _freeze_startup_objects() -> None:
    """Once per process: what start-up made (modules, configuration, mappers, templates: some
    240,000 objects) lives as long as the process, so the garbage collector stops walking it. A
    full collection, which a server under load runs every few seconds for the garbage its
    requests leave, then takes a few ms instead of 150-200 ms, which every request waited for."""
    gc.collect()
    gc.freeze()


def includeme(config) -> None:
    config.include("pyramid_jinja2")
    config.add_renderer("json", JSON(ensure_ascii=False))  # Chinese names stay readable
    config.include(".i18n")
    config.include(".security")
    config.include(".bodies")
    config.include(".routes")
    config.include(".committee.cache")

"""The web layer: the app factory, routes, views, templates and the JSON API."""
from pyramid.config import Configurator
from pyramid.renderers import JSON


def main(global_config, **settings):
    """The WSGI app: composes the packages' includes and scans for views."""
    with Configurator(settings=settings) as config:
        config.include("trucks")
        config.include("views")
        config.scan("views")
    return config.make_wsgi_app()


def includeme(config) -> None:
    config.include("pyramid_jinja2")
    config.add_renderer("json", JSON(ensure_ascii=False))  # Chinese names stay readable
    config.include(".i18n")
    config.include(".security")
    config.include(".bodies")
    config.include(".routes")
    config.include(".committee.cache")

"""The JSON API under ``/api/``: the pages' data and actions, with the pages' permissions.

Each endpoint is declared once with ``views.api.spec.api_view``: that one description registers
the view and becomes its operation in the OpenAPI document served at ``/api/openapi.json``.
"""

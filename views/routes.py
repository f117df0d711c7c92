"""Every route of the app, in one place. View modules attach to these names."""


def includeme(config) -> None:
    config.add_static_view("static", "views:static", cache_max_age=3600)

    # everyone
    config.add_route("home", "/")
    config.add_route("lang", "/lang/{code}")
    config.add_route("login", "/login")
    config.add_route("logout", "/logout")

    # compound committees: the unguessable token is the key, no login
    config.add_route("committee", "/c/{token}")
    config.add_route("committee_notice", "/c/{token}/notice")
    config.add_route("committee_qr", "/c/{token}/qr.svg")
    config.add_route("committee_report", "/c/{token}/report")
    config.add_route("committee_withdraw", "/c/{token}/reports/{report_id}/withdraw")

    # handing out committee links: admin and coordinator all compounds, a planner their retailer's
    config.add_route("links", "/links")
    config.add_route("links_csv", "/links.csv")
    config.add_route("links_notices", "/links/notices")
    config.add_route("links_qr_sheet", "/links/qr-sheet")
    config.add_route("link_rotate", "/links/{compound_id}/rotate")
    config.add_route("link_webhook", "/links/{compound_id}/webhook")

    # planners (their own retailer; an admin picks one with ?retailer=ID)
    config.add_route("plan_home", "/plan")
    config.add_route("plan_day", "/plan/{date}")
    config.add_route("plan_import", "/plan/{date}/import")
    config.add_route("plan_solve", "/plan/{date}/solve")
    config.add_route("plan_solve_status", "/plan/{date}/solve/{run_id}")
    config.add_route("plan_solve_cancel", "/plan/{date}/solve/{run_id}/cancel")
    config.add_route("plan_map", "/plan/{date}/map.svg")
    config.add_route("plan_gantt", "/plan/{date}/gantt.svg")
    config.add_route("plan_constraints", "/plan/{date}/constraints")
    config.add_route("plan_publish", "/plan/{date}/publish")
    config.add_route("plan_versions", "/plan/{date}/versions")
    config.add_route("plan_version", "/plan/{date}/versions/{version}")
    config.add_route("plan_export", "/plan/{date}/export.{format}")
    config.add_route("plan_replan", "/plan/{date}/replan")
    config.add_route("plan_urgent", "/plan/{date}/urgent")
    config.add_route("plan_week", "/plan/{date}/week")
    config.add_route("plan_report_decision", "/plan/{date}/reports/{report_id}")
    config.add_route("plan_breakdown", "/plan/{date}/breakdowns/{breakdown_id}")

    # the district's coordinator (an admin too): the day of every retailer, the assignment, users
    config.add_route("district_home", "/district")
    config.add_route("district_compounds", "/district/compounds")  # before the day: not a date
    config.add_route("district_day", "/district/{date}")
    config.add_route("district_import", "/district/{date}/import")
    config.add_route("district_assignment", "/district/{date}/assignment")
    config.add_route("district_solve", "/district/{date}/solve")
    config.add_route("users", "/users")

    # drivers (their own truck)
    config.add_route("driver_home", "/driver")
    config.add_route("driver_day", "/driver/{date}")
    config.add_route("driver_sheet", "/driver/{date}/sheet")
    config.add_route("driver_stop_event", "/driver/{date}/stops/{stop_id}")
    config.add_route("driver_breakdown", "/driver/{date}/breakdown")

    # JSON API: the same data and permissions as the pages
    config.add_route("api_openapi", "/api/openapi.json")
    config.add_route("api_docs", "/api/docs")
    config.add_route("api_session", "/api/session")
    config.add_route("api_day", "/api/days/{date}")
    config.add_route("api_import", "/api/days/{date}/import")
    config.add_route("api_solve", "/api/days/{date}/solve")
    config.add_route("api_solve_run", "/api/solve-runs/{run_id}")
    config.add_route("api_solve_run_cancel", "/api/solve-runs/{run_id}/cancel")
    config.add_route("api_constraints", "/api/days/{date}/constraints")
    config.add_route("api_constraint", "/api/days/{date}/constraints/{constraint_id}")
    config.add_route("api_publications", "/api/days/{date}/publications")
    config.add_route("api_publication", "/api/days/{date}/publications/{version}")
    config.add_route("api_replan", "/api/days/{date}/replans")
    config.add_route("api_urgent", "/api/days/{date}/urgent-stops")
    config.add_route("api_links", "/api/links")
    config.add_route("api_link_rotate", "/api/links/{compound_id}/rotate")
    config.add_route("api_compound", "/api/compounds/{token}")
    config.add_route("api_compound_report", "/api/compounds/{token}/report")
    config.add_route("api_compound_withdraw", "/api/compounds/{token}/reports/{report_id}/withdraw")
    config.add_route("api_report_decision", "/api/days/{date}/reports/{report_id}")
    config.add_route("api_driver_day", "/api/driver/days/{date}")
    config.add_route("api_district_solve", "/api/districts/{date}/solve")
    config.add_route("api_driver_stop_event", "/api/driver/stops/{stop_id}/events")
    config.add_route("api_driver_breakdown", "/api/driver/days/{date}/breakdown")

"""Every route of the app, in one place, each with the context factory that decides who may
reach it (``views.contexts``). View modules attach to these names and name their permission."""
from pyramid.security import NO_PERMISSION_REQUIRED

PLAN_DAY = "views.planner.day.PlanDay"
RETAILER = "views.contexts.RetailerContext"
SOLVE_RUN = "views.contexts.SolveRunContext"
TRUCK = "views.contexts.TruckContext"
COMPOUND = "views.contexts.CompoundContext"
LINKS = "views.contexts.LinksContext"
DISTRICT = "views.contexts.DistrictContext"


def includeme(config) -> None:
    config.add_static_view("static", "views:static", cache_max_age=3600, permission=NO_PERMISSION_REQUIRED)

    # everyone (the root context; the views are public and say so)
    config.add_route("home", "/")
    config.add_route("lang", "/lang/{code}")
    config.add_route("login", "/login")
    config.add_route("logout", "/logout")

    # compound committees: the unguessable token is the key, no login
    config.add_route("committee", "/c/{token}", factory=COMPOUND)
    config.add_route("committee_notice", "/c/{token}/notice", factory=COMPOUND)
    config.add_route("committee_qr", "/c/{token}/qr.svg", factory=COMPOUND)
    config.add_route("committee_report", "/c/{token}/report", factory=COMPOUND)
    config.add_route("committee_withdraw", "/c/{token}/reports/{report_id}/withdraw", factory=COMPOUND)

    # handing out committee links: admin and coordinator all compounds, a planner their retailer's
    config.add_route("links", "/links", factory=LINKS)
    config.add_route("links_csv", "/links.csv", factory=LINKS)
    config.add_route("links_notices", "/links/notices", factory=LINKS)
    config.add_route("links_qr_sheet", "/links/qr-sheet", factory=LINKS)
    config.add_route("link_rotate", "/links/{compound_id}/rotate", factory=LINKS)
    config.add_route("link_webhook", "/links/{compound_id}/webhook", factory=LINKS)

    # planners (their own retailer; an admin or a coordinator picks one with ?retailer=ID)
    config.add_route("plan_home", "/plan", factory=RETAILER)
    config.add_route("plan_day", "/plan/{date}", factory=PLAN_DAY)
    config.add_route("plan_import", "/plan/{date}/import", factory=PLAN_DAY)
    config.add_route("plan_solve", "/plan/{date}/solve", factory=PLAN_DAY)
    config.add_route("plan_solve_status", "/plan/{date}/solve/{run_id}", factory=PLAN_DAY)
    config.add_route("plan_solve_cancel", "/plan/{date}/solve/{run_id}/cancel", factory=PLAN_DAY)
    config.add_route("plan_map", "/plan/{date}/map.svg", factory=PLAN_DAY)
    config.add_route("plan_gantt", "/plan/{date}/gantt.svg", factory=PLAN_DAY)
    config.add_route("plan_constraints", "/plan/{date}/constraints", factory=PLAN_DAY)
    config.add_route("plan_publish", "/plan/{date}/publish", factory=PLAN_DAY)
    config.add_route("plan_versions", "/plan/{date}/versions", factory=PLAN_DAY)
    config.add_route("plan_version", "/plan/{date}/versions/{version}", factory=PLAN_DAY)
    config.add_route("plan_export", "/plan/{date}/export.{format}", factory=PLAN_DAY)
    config.add_route("plan_replan", "/plan/{date}/replan", factory=PLAN_DAY)
    config.add_route("plan_urgent", "/plan/{date}/urgent", factory=PLAN_DAY)
    config.add_route("plan_week", "/plan/{date}/week", factory=PLAN_DAY)
    config.add_route("plan_report_decision", "/plan/{date}/reports/{report_id}", factory=PLAN_DAY)
    config.add_route("plan_breakdown", "/plan/{date}/breakdowns/{breakdown_id}", factory=PLAN_DAY)

    # the district's coordinator (an admin too): the day of every retailer, the assignment, users
    config.add_route("district_home", "/district", factory=DISTRICT)
    config.add_route("district_compounds", "/district/compounds", factory=DISTRICT)  # before the day: not a date
    config.add_route("district_day", "/district/{date}", factory=DISTRICT)
    config.add_route("district_import", "/district/{date}/import", factory=DISTRICT)
    config.add_route("district_assignment", "/district/{date}/assignment", factory=DISTRICT)
    config.add_route("district_solve", "/district/{date}/solve", factory=DISTRICT)
    config.add_route("district_week", "/district/{date}/week", factory=DISTRICT)
    config.add_route("district_week_csv", "/district/{date}/week.csv", factory=DISTRICT)
    config.add_route("users", "/users", factory=DISTRICT)

    # drivers (their own truck; an admin picks one with ?truck=CODE)
    config.add_route("driver_home", "/driver", factory=TRUCK)
    config.add_route("driver_day", "/driver/{date}", factory=TRUCK)
    config.add_route("driver_sheet", "/driver/{date}/sheet", factory=TRUCK)
    config.add_route("driver_stop_event", "/driver/{date}/stops/{stop_id}", factory=TRUCK)
    config.add_route("driver_breakdown", "/driver/{date}/breakdown", factory=TRUCK)

    # JSON API: the same contexts and permissions as the pages
    config.add_route("api_openapi", "/api/openapi.json")
    config.add_route("api_docs", "/api/docs")
    config.add_route("api_session", "/api/session")
    config.add_route("api_day", "/api/days/{date}", factory=PLAN_DAY)
    config.add_route("api_import", "/api/days/{date}/import", factory=PLAN_DAY)
    config.add_route("api_solve", "/api/days/{date}/solve", factory=PLAN_DAY)
    config.add_route("api_solve_run", "/api/solve-runs/{run_id}", factory=SOLVE_RUN)
    config.add_route("api_solve_run_cancel", "/api/solve-runs/{run_id}/cancel", factory=SOLVE_RUN)
    config.add_route("api_constraints", "/api/days/{date}/constraints", factory=PLAN_DAY)
    config.add_route("api_constraint", "/api/days/{date}/constraints/{constraint_id}", factory=PLAN_DAY)
    config.add_route("api_publications", "/api/days/{date}/publications", factory=PLAN_DAY)
    config.add_route("api_publication", "/api/days/{date}/publications/{version}", factory=PLAN_DAY)
    config.add_route("api_replan", "/api/days/{date}/replans", factory=PLAN_DAY)
    config.add_route("api_urgent", "/api/days/{date}/urgent-stops", factory=PLAN_DAY)
    config.add_route("api_links", "/api/links", factory=LINKS)
    config.add_route("api_link_rotate", "/api/links/{compound_id}/rotate", factory=LINKS)
    config.add_route("api_compound", "/api/compounds/{token}", factory=COMPOUND)
    config.add_route("api_compound_report", "/api/compounds/{token}/report", factory=COMPOUND)
    config.add_route("api_compound_withdraw", "/api/compounds/{token}/reports/{report_id}/withdraw", factory=COMPOUND)
    config.add_route("api_report_decision", "/api/days/{date}/reports/{report_id}", factory=PLAN_DAY)
    config.add_route("api_driver_day", "/api/driver/days/{date}", factory=TRUCK)
    config.add_route("api_district_solve", "/api/districts/{date}/solve", factory=DISTRICT)
    config.add_route("api_driver_stop_event", "/api/driver/stops/{stop_id}/events", factory=TRUCK)
    config.add_route("api_driver_breakdown", "/api/driver/days/{date}/breakdown", factory=TRUCK)

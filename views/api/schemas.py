"""The JSON Schemas (2020-12, as OpenAPI 3.1 uses) of what the API sends and takes.

The tests validate real responses against these, so a schema that drifts from the data fails.
"""
from __future__ import annotations

from trucks.committees import MAX_REASON_LENGTH
from trucks.live import MAX_DELAY_MINUTES
from trucks.models import Role


def ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def nullable(schema: dict) -> dict:
    return {"anyOf": [schema, {"type": "null"}]}


def obj(properties: dict, *, optional: tuple[str, ...] = (), extra: bool = False) -> dict:
    """An object whose properties are all required except ``optional``."""
    schema = {
        "type": "object",
        "properties": properties,
        "required": [name for name in properties if name not in optional],
    }
    if not extra:
        schema["additionalProperties"] = False
    return schema


def array(items: dict) -> dict:
    return {"type": "array", "items": items}


STRING = {"type": "string"}
INTEGER = {"type": "integer"}
NUMBER = {"type": "number"}
BOOLEAN = {"type": "boolean"}
DATE = {"type": "string", "format": "date"}
#: a string the server reads stripped: it must hold something besides spaces
TEXT = {"type": "string", "minLength": 1, "pattern": r"\S"}
#: naive local (Shanghai) date-times, as the schedules are written
LOCAL_TIME = {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?$"}
WINDOW = {**array(LOCAL_TIME), "minItems": 2, "maxItems": 2}
QUANTITIES = {"type": "object", "additionalProperties": INTEGER}

COMPONENTS: dict[str, dict] = {
    "Error": obj(
        {
            "error": STRING,
            "problems": array({"type": "object"}),
            "run_id": INTEGER,
            "reason": STRING,
            "retry_after_seconds": INTEGER,
        },
        optional=("problems", "run_id", "reason", "retry_after_seconds"),
    ),
    "ImportProblem": obj(
        {"file": STRING, "row": nullable(INTEGER), "column": nullable(STRING), "code": STRING, "reason": STRING}
    ),
    "FieldProblem": obj({"field": STRING, "code": STRING, "reason": STRING}),
    "Session": obj(
        {
            "user": nullable(
                obj(
                    {
                        "username": STRING,
                        "role": {"enum": [role.value for role in Role]},
                        "retailer": nullable(ref("Retailer")),
                        "truck_id": nullable(STRING),
                    }
                )
            ),
            "csrf_token": STRING,
        }
    ),
    "Retailer": obj({"id": INTEGER, "name": STRING}),
    "ImportBatch": obj(
        {
            "id": INTEGER,
            "created_at": LOCAL_TIME,
            "created_by": STRING,
            "counts": obj(
                {
                    "trucks": INTEGER,
                    "compounds": INTEGER,
                    "new_compounds": INTEGER,
                    "stock": INTEGER,
                    "demand": INTEGER,
                    "demand_compounds": INTEGER,
                    "travel": INTEGER,
                    "new_categories": array(STRING),
                },
                optional=("new_compounds", "demand_compounds", "travel", "new_categories"),
                extra=True,
            ),
            "notes": array(STRING),
        }
    ),
    "CategoryTotals": obj(
        {"category": STRING, "name_zh": STRING, "name_en": STRING, "stock": INTEGER, "demand": INTEGER}
    ),
    "SolveRun": obj(
        {
            "id": INTEGER,
            "date": DATE,
            "status": {"enum": ["queued", "running", "done", "failed", "cancelled"]},
            "alive": {**BOOLEAN, "description": "queued or running, with a fresh heartbeat"},
            "finished": {**BOOLEAN, "description": "ended, or abandoned by its worker: stop polling"},
            "progress": NUMBER,
            "message": {**STRING, "description": "the latest progress line in the request's language"},
            "error": nullable(STRING),
            "time_limit": NUMBER,
            "worker": nullable(STRING),
            "attempts": INTEGER,
            "heartbeat_at": nullable(LOCAL_TIME),
            "created_at": LOCAL_TIME,
            "created_by": STRING,
            "schedule_id": nullable(INTEGER),
            "kind": {"enum": ["solve", "replan"]},
            "asked": {"type": "object", "description": "a re-plan's truck_id and from (HH:MM)"},
            "published_version": {**nullable(INTEGER), "description": "the version a finished re-plan published"},
            "figures": {"type": "object", "description": "the finished run's figures (a re-plan's kept, reserved, "
                        "dropped, moved, mean and max minutes moved)"},
        }
    ),
    "ScheduleStop": obj(
        {"compound_id": STRING, "arrival": LOCAL_TIME, "departure": LOCAL_TIME, "deliveries": QUANTITIES}
    ),
    "Schedule": obj(
        {
            "id": INTEGER,
            "date": DATE,
            "version": {**nullable(INTEGER), "description": "the publication's number; null for a solve not published"},
            "status": STRING,
            "travel_minutes": NUMBER,
            "routes": array(
                obj(
                    {
                        "truck_id": STRING,
                        "depart": LOCAL_TIME,
                        "return": LOCAL_TIME,
                        "stops": array(ref("ScheduleStop")),
                    }
                )
            ),
            "unserved": array(obj({"compound_id": STRING, "reason": STRING})),
        }
    ),
    "FillRates": obj(
        {
            "categories": array(
                obj(
                    {
                        "category": STRING,
                        "stock": INTEGER,
                        "demand": INTEGER,
                        "delivered": INTEGER,
                        "rate": NUMBER,
                    }
                )
            ),
            "compounds": array(
                obj(
                    {
                        "compound_id": STRING,
                        "name": STRING,
                        "truck_id": nullable(STRING),
                        "rate": NUMBER,
                        "delivered": QUANTITIES,
                        "demand": QUANTITIES,
                    }
                )
            ),
        }
    ),
    "Day": obj(
        {
            "date": DATE,
            "retailer": ref("Retailer"),
            "imported": obj(
                {
                    "trucks": INTEGER,
                    "compounds": INTEGER,
                    "categories": array(ref("CategoryTotals")),
                    "batches": array(ref("ImportBatch")),
                }
            ),
            "solve_run": nullable(ref("SolveRun")),
            "schedule": nullable(ref("Schedule")),
            "fill_rates": nullable(ref("FillRates")),
            "published_version": nullable(INTEGER),
        }
    ),
    "Constraint": obj(
        {
            "id": INTEGER,
            "kind": {"enum": ["pin", "forbid", "lock"]},
            "truck_id": STRING,
            "compound_id": nullable(STRING),
            "locked_route": nullable(array(STRING)),
        }
    ),
    "NewConstraint": obj(
        {
            "kind": {"enum": ["pin", "forbid", "lock"]},
            "truck_id": {**TEXT, "description": "the truck's code (truck_id of trucks.csv)"},
            "compound_id": {**TEXT, "description": "the compound's code; for pin and forbid (422 without it)"},
        },
        optional=("compound_id",),
    ),
    "Publication": obj(
        {
            "version": INTEGER,
            "published_at": LOCAL_TIME,
            "published_by": STRING,
            "schedule_id": INTEGER,
            "stops": INTEGER,
        }
    ),
    "PlannedStop": obj({"compound_id": STRING, "name": STRING, "truck_id": STRING, "arrival": LOCAL_TIME}),
    "ArrivalDiff": obj(
        {
            "first": {**BOOLEAN, "description": "nothing was published before: every stop is added"},
            "changed": BOOLEAN,
            "unchanged": INTEGER,
            "moved": array(
                obj(
                    {
                        "compound_id": STRING,
                        "name": STRING,
                        "minutes": {**INTEGER, "description": "positive: the truck now comes later"},
                        "truck_changed": BOOLEAN,
                        "before": ref("PlannedStop"),
                        "after": ref("PlannedStop"),
                    }
                )
            ),
            "added": array(ref("PlannedStop")),
            "dropped": array(ref("PlannedStop")),
        }
    ),
    "Publications": obj(
        {
            "date": DATE,
            "publications": array(ref("Publication")),
            "candidate": nullable(
                obj({"schedule_id": INTEGER, "already_published": BOOLEAN, "outdated": BOOLEAN, "diff": ref("ArrivalDiff")})
            ),
        }
    ),
    "PublishRequest": obj(
        {
            "schedule_id": {**INTEGER, "description": "the schedule reviewed; refused (409) unless it is the day's latest"},
            "confirm_outdated": {**BOOLEAN, "description": "publish a schedule solved before a later import of the day"},
        },
        optional=("confirm_outdated",),
    ),
    "Published": obj({"publication": ref("Publication"), "diff": ref("ArrivalDiff")}),
    "ReplanRequest": obj(
        {
            "truck_id": {**STRING, "description": "the truck out of service (its code)"},
            "from": {**STRING, "pattern": r"^\d{1,2}:\d{2}$", "description": "HH:MM on the day: out of service from then"},
        }
    ),
    "UrgentOption": obj(
        {
            "truck_id": STRING,
            "position": {**INTEGER, "description": "0 for the first stop of the route"},
            "arrival": LOCAL_TIME,
            "start": LOCAL_TIME,
            "deliveries": QUANTITIES,
            "extra_travel_minutes": NUMBER,
            "within_limit": {**BOOLEAN, "description": "no published start pushed by more than 15 minutes"},
            "moves": array(obj({"compound_id": STRING, "before": LOCAL_TIME, "after": LOCAL_TIME, "minutes": NUMBER})),
        }
    ),
    "UrgentOptions": obj(
        {"compound_id": STRING, "from": STRING, "base_version": INTEGER, "options": array(ref("UrgentOption"))}
    ),
    "UrgentRequest": obj(
        {
            "compound_id": STRING,
            "from": {**STRING, "pattern": r"^\d{1,2}:\d{2}$"},
            "truck_id": STRING,
            "position": INTEGER,
        }
    ),
    "UrgentInserted": obj({"publication": ref("Publication"), "inserted": ref("UrgentOption")}),
    "PublicationDetail": obj({"publication": ref("Publication"), "schedule": ref("Schedule")}),
    "Goods": obj({"category": STRING, "name_zh": STRING, "name_en": STRING, "quantity": INTEGER}),
    "Estimate": obj(
        {
            "status": {"enum": ["planned", "arrived", "departed"]},
            "updated": BOOLEAN,
            "arrival": LOCAL_TIME,
            "start": LOCAL_TIME,
            "departure": LOCAL_TIME,
            "window": WINDOW,
            "stay_minutes": INTEGER,
            "arrived_at": nullable(LOCAL_TIME),
            "departed_at": nullable(LOCAL_TIME),
            "delay_minutes": nullable(INTEGER),
        }
    ),
    "CompoundDay": obj(
        {
            "date": DATE,
            "published": BOOLEAN,
            "version": nullable(INTEGER),
            "published_at": nullable(LOCAL_TIME),
            "retailer": STRING,
            "plate": STRING,
            "window": nullable(WINDOW),
            "arrival": nullable(LOCAL_TIME),
            "departure": nullable(LOCAL_TIME),
            "stay_minutes": nullable(INTEGER),
            "goods": array(ref("Goods")),
            "time_changed": nullable(
                obj({"previous_version": INTEGER, "previous_window": WINDOW, "moved_minutes": INTEGER})
            ),
            "estimate": nullable(ref("Estimate")),
            "removed_in_version": nullable(INTEGER),
            "cannot_receive_reports": array(ref("Report")),
        }
    ),
    "Compound": obj(
        {
            "compound": obj({"name": STRING, "town": STRING, "address": STRING}),
            "days": array(ref("CompoundDay")),
        }
    ),
    "Report": obj(
        {
            "id": INTEGER,
            "date": DATE,
            "reason": STRING,
            "created_at": LOCAL_TIME,
            "withdrawn_at": nullable(LOCAL_TIME),
            "decision": {"enum": ["accepted", "overridden", None], "description": "the planner's answer, if any"},
            "decision_reason": STRING,
        }
    ),
    "NewReport": obj(
        {
            "date": {**DATE, "description": "today or later (default: today)"},
            "reason": {**TEXT, "maxLength": MAX_REASON_LENGTH},
            "code": {**STRING, "description": "the committee code (the link's token alone cannot file)"},
        },
        optional=("date",),
    ),
    "Link": obj(
        {
            "compound_id": STRING,
            "id": INTEGER,
            "name": STRING,
            "town": STRING,
            "link": STRING,
            "qr": {**STRING, "description": "the QR code of the link, as SVG"},
            "committee_code": {**STRING, "description": "private: for the committee contact only"},
        }
    ),
    "Links": obj({"links": array(ref("Link"))}),
    "Rotation": obj({"what": {"enum": ["link", "code"]}}),
    "CommitteeCode": obj({"code": {**STRING, "description": "the committee code"}}),
    "ReportDecision": obj(
        {
            "decision": {"enum": ["accepted", "overridden"]},
            "reason": {**STRING, "maxLength": 500, "description": "required to override: the committee sees it"},
        },
        optional=("reason",),
    ),
    "DriverStop": obj(
        {
            "stop_id": INTEGER,
            "seq": INTEGER,
            "compound_id": STRING,
            "name": STRING,
            "town": STRING,
            "address": STRING,
            "contact": STRING,
            "lat": NUMBER,
            "lon": NUMBER,
            "navigation": STRING,
            "arrival": LOCAL_TIME,
            "start": LOCAL_TIME,
            "departure": LOCAL_TIME,
            "deliveries": array(ref("Goods")),
            "estimate": ref("Estimate"),
        }
    ),
    "DriverRoute": obj(
        {
            "date": DATE,
            "version": INTEGER,
            "published_at": LOCAL_TIME,
            "retailer": STRING,
            "truck_id": STRING,
            "plate": STRING,
            "depot": STRING,
            "depart": LOCAL_TIME,
            "return": LOCAL_TIME,
            "stops": array(ref("DriverStop")),
        }
    ),
    "DriverDay": obj({"date": DATE, "truck_id": STRING, "route": nullable(ref("DriverRoute"))}),
    "NewStopEvent": obj(
        {
            "kind": {"enum": ["arrived", "departed", "delay"]},
            "at": {**STRING, "pattern": r"^([01][0-9]|2[0-3]):[0-5][0-9]$",
                   "description": "HH:MM on the route's date; default now"},
            "delay_minutes": {**INTEGER, "minimum": 1, "maximum": MAX_DELAY_MINUTES,
                              "description": "for kind delay only (422 with another kind)"},
        },
        optional=("at", "delay_minutes"),
    ),
    "NewBreakdown": obj(
        {"from": {**STRING, "pattern": r"^\d{1,2}:\d{2}$", "description": "HH:MM on the date; default now"}},
        optional=("from",),
    ),
    "Breakdown": obj(
        {
            "id": INTEGER,
            "date": DATE,
            "truck_id": STRING,
            "from": LOCAL_TIME,
            "status": {"enum": ["reported", "confirmed", "dismissed"]},
        }
    ),
    "StopEvent": obj(
        {
            "event": obj(
                {
                    "id": INTEGER,
                    "kind": STRING,
                    "at": LOCAL_TIME,
                    "delay_minutes": nullable(INTEGER),
                }
            ),
            "stop": ref("DriverStop"),
        }
    ),
}

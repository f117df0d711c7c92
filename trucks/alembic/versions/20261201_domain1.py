"""schedules keep the facts they were solved on

Each schedule row gets a JSON ``facts`` column: the truck of a route, the compound and its
demand of a stop or unserved row, the stock, idle trucks and latest import of a schedule, so
that a published version reads the same after later imports. Existing rows are filled from the
data as it is now (the best that is known about them).

Revision ID: domain1
Revises: 0002
Create Date: 2026-12-01 21:30:00
"""
from collections import defaultdict

import sqlalchemy as sa
from alembic import op

revision = "domain1"
down_revision = "0002"
branch_labels = None
depends_on = None

TABLES = ("schedules", "schedule_routes", "schedule_stops", "schedule_unserved")
TRUCK_FIELDS = ("id", "code", "plate", "depot_name", "depot_lat", "depot_lon", "max_stops")
COMPOUND_FIELDS = ("id", "code", "name", "town", "address", "contact", "lat", "lon", "households",
                   "window_start", "window_end", "priority")

metadata = sa.MetaData()
schedules = sa.Table("schedules", metadata, sa.Column("id", sa.Integer), sa.Column("date", sa.Date),
                     sa.Column("retailer_id", sa.Integer), sa.Column("created_at", sa.DateTime),
                     sa.Column("facts", sa.JSON))
routes = sa.Table("schedule_routes", metadata, sa.Column("id", sa.Integer), sa.Column("schedule_id", sa.Integer),
                  sa.Column("truck_id", sa.Integer), sa.Column("facts", sa.JSON))
stops = sa.Table("schedule_stops", metadata, sa.Column("id", sa.Integer), sa.Column("route_id", sa.Integer),
                 sa.Column("compound_id", sa.Integer), sa.Column("facts", sa.JSON))
unserved = sa.Table("schedule_unserved", metadata, sa.Column("id", sa.Integer), sa.Column("schedule_id", sa.Integer),
                    sa.Column("compound_id", sa.Integer), sa.Column("facts", sa.JSON))
trucks = sa.Table("trucks", metadata, *(sa.Column(name) for name in TRUCK_FIELDS), sa.Column("retailer_id"))
compounds = sa.Table("compounds", metadata, *(sa.Column(name) for name in COMPOUND_FIELDS))
stock = sa.Table("stock", metadata, sa.Column("date"), sa.Column("truck_id"), sa.Column("category_key"),
                 sa.Column("quantity"))
demand = sa.Table("demand", metadata, sa.Column("date"), sa.Column("compound_id"), sa.Column("retailer_id"),
                  sa.Column("category_key"), sa.Column("quantity"))
batches = sa.Table("import_batches", metadata, sa.Column("id"), sa.Column("date"), sa.Column("retailer_id"),
                   sa.Column("created_at"))


def upgrade() -> None:
    for table in TABLES:
        op.add_column(table, sa.Column("facts", sa.JSON(), nullable=False, server_default=sa.text("'{}'")))
    _fill(op.get_bind())


def _fill(conn) -> None:
    truck_rows = {row.id: dict(row._mapping) for row in conn.execute(sa.select(trucks))}
    compound_rows = {row.id: {k: row._mapping[k] for k in COMPOUND_FIELDS} for row in conn.execute(sa.select(compounds))}
    truck_retailer = {i: truck.pop("retailer_id") for i, truck in truck_rows.items()}
    for schedule in conn.execute(sa.select(schedules)).all():
        wanted: dict[int, dict[str, int]] = defaultdict(dict)
        for compound_id, key, quantity in conn.execute(
                sa.select(demand.c.compound_id, demand.c.category_key, demand.c.quantity).where(
                    demand.c.date == schedule.date, demand.c.retailer_id == schedule.retailer_id)):
            wanted[compound_id][key] = quantity
        loaded = {truck_id for (truck_id,) in conn.execute(
            sa.select(stock.c.truck_id).where(stock.c.date == schedule.date))}
        own = {i for i in loaded if truck_retailer.get(i) == schedule.retailer_id}
        totals: dict[str, int] = defaultdict(int)
        for key, quantity in conn.execute(sa.select(stock.c.category_key, stock.c.quantity).where(
                stock.c.date == schedule.date, stock.c.truck_id.in_(own))):
            totals[key] += quantity
        route_rows = conn.execute(sa.select(routes).where(routes.c.schedule_id == schedule.id)).all()
        routed = {r.truck_id for r in route_rows}
        import_id = conn.execute(sa.select(sa.func.max(batches.c.id)).where(
            batches.c.date == schedule.date, batches.c.created_at <= schedule.created_at,
            sa.or_(batches.c.retailer_id == schedule.retailer_id, batches.c.retailer_id.is_(None)))).scalar()
        conn.execute(schedules.update().where(schedules.c.id == schedule.id).values(facts={
            "stock": dict(totals), "import_id": import_id,
            "idle_trucks": [truck_rows[i] for i in sorted(own - routed, key=lambda i: truck_rows[i]["code"])]}))
        for route in route_rows:
            conn.execute(routes.update().where(routes.c.id == route.id).values(
                facts={"truck": truck_rows[route.truck_id]}))
            for stop in conn.execute(sa.select(stops).where(stops.c.route_id == route.id)).all():
                conn.execute(stops.update().where(stops.c.id == stop.id).values(facts={
                    "compound": compound_rows[stop.compound_id], "demand": wanted[stop.compound_id]}))
        for row in conn.execute(sa.select(unserved).where(unserved.c.schedule_id == schedule.id)).all():
            conn.execute(unserved.update().where(unserved.c.id == row.id).values(facts={
                "compound": compound_rows[row.compound_id], "demand": wanted[row.compound_id]}))



def downgrade() -> None:
    for table in TABLES:
        op.drop_column(table, "facts")  # SQLite 3.35+ drops a column in place

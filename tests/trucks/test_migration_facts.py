"""Revision domain1 fills the facts of schedules stored before it from the data of the time."""
import alembic.command
import alembic.config
from pyramid.paster import get_appsettings
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from tests.conftest import INI_FILE
from tests.factories import DAY, make_day
from trucks.models import Schedule


def alembic_config(url: str) -> alembic.config.Config:
    cfg = alembic.config.Config(str(INI_FILE))
    cfg.attributes["settings"] = dict(get_appsettings(str(INI_FILE)), **{"sqlalchemy.url": url})
    return cfg


def test_existing_schedules_get_their_facts_from_the_data_of_the_time(tmp_path):
    url = f"sqlite:///{tmp_path / 'old.sqlite'}"
    cfg = alembic_config(url)
    alembic.command.upgrade(cfg, "head")
    engine = create_engine(url)
    with Session(engine) as session:
        day = make_day(session, prefix="MG")  # the importer writes only tables 0002 has
        truck, compound, idle = day.trucks[0], day.compounds[0], day.trucks[1]
        expected_plate, expected_name = truck.plate, compound.name
        session.commit()
        truck_id, compound_id, idle_code, retailer_id = truck.id, compound.id, idle.code, day.retailer.id
    engine.dispose()
    # the importer maps today's columns: its rows go in at head, the schedules of the time at 0002
    alembic.command.downgrade(cfg, "0002")
    with engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO schedules (id, date, retailer_id, created_at, travel_minutes, seconds, seed, status, params) "
            "VALUES (1, :date, :retailer, '2030-01-01 00:00:00', 10, 1, 0, 'feasible', '{}')"),
            {"date": DAY, "retailer": retailer_id})
        conn.execute(text("INSERT INTO schedule_routes (id, schedule_id, truck_id, depart, back, travel_minutes) "
                          "VALUES (1, 1, :truck, '2022-04-20 08:00:00', '2022-04-20 09:00:00', 10)"), {"truck": truck_id})
        conn.execute(text("INSERT INTO schedule_stops (id, route_id, seq, compound_id, arrival, start, departure, "
                          "deliveries, fill) VALUES (1, 1, 1, :compound, '2022-04-20 08:10:00', "
                          "'2022-04-20 08:10:00', '2022-04-20 08:20:00', '{}', '{}')"), {"compound": compound_id})
    alembic.command.upgrade(cfg, "head")
    with Session(engine) as session:
        schedule = session.get(Schedule, 1)
        route = schedule.routes[0]
        stop = route.stops[0]
        assert (route.truck.plate, route.truck.code) == (expected_plate, "MG-T1")
        assert (stop.compound.name, stop.compound.window_start) == (expected_name, 7 * 60)
        assert stop.demand == {"vegetables": 15, "dairy": 10, "eggs": 5}
        assert [t.code for t in schedule.idle_trucks] == [idle_code]
        assert schedule.stock and schedule.import_id == 1
    alembic.command.downgrade(cfg, "0002")
    engine.dispose()

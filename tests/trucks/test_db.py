"""A worker's own transactions on SQLite: a write refused for a stale snapshot is run again."""
import pytest
from sqlalchemy import select, update

from trucks.db import DatabaseBusy, get_engine, get_session_factory, in_transaction
from trucks.models import Retailer


@pytest.fixture
def file_sessions(file_database):
    engine = get_engine({"sqlalchemy.url": file_database})
    yield get_session_factory(engine)
    engine.dispose()


@pytest.fixture
def retailer_id(file_sessions):
    with file_sessions.begin() as session:
        retailer = Retailer(name="良友")
        session.add(retailer)
        session.flush()
        return retailer.id


def _read_then_write_after_another_commit(file_sessions, retailer_id, tries: list[str]):
    """Reads the retailer (its snapshot begins), lets another connection commit a change, then
    writes: SQLite refuses at once, whatever busy_timeout says."""

    def work(session):
        name = session.scalar(select(Retailer.name).where(Retailer.id == retailer_id))
        tries.append(name)
        if len(tries) == 1:
            with file_sessions.begin() as other:
                other.execute(update(Retailer).where(Retailer.id == retailer_id).values(name="良友 (other)"))
        session.execute(update(Retailer).where(Retailer.id == retailer_id).values(name=f"{name} + mine"))
        return len(tries)

    return work


def test_a_write_refused_for_a_stale_snapshot_is_refused(file_sessions, retailer_id):
    tries = []
    with pytest.raises(DatabaseBusy), file_sessions.begin() as session:
        _read_then_write_after_another_commit(file_sessions, retailer_id, tries)(session)


def test_in_transaction_runs_the_work_again_on_a_fresh_snapshot(file_sessions, retailer_id):
    tries = []
    assert in_transaction(file_sessions, _read_then_write_after_another_commit(file_sessions, retailer_id, tries)) == 2
    assert tries == ["良友", "良友 (other)"]  # the second try saw the other connection's commit
    with file_sessions() as session:
        assert session.get(Retailer, retailer_id).name == "良友 (other) + mine"

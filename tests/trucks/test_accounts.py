import pytest

from tests.factories import PASSWORD, make_day, make_user
from trucks.accounts import AccountError, authenticate, create_user
from trucks.models import Category, Role


def test_password_is_stored_as_argon2_hash_and_checks(dbsession):
    user = create_user(dbsession, "boss", "s3cret-enough", Role.ADMIN)
    assert user.password_hash.startswith("$argon2")
    assert "s3cret-enough" not in user.password_hash
    assert authenticate(dbsession, "boss", "s3cret-enough") is user
    assert authenticate(dbsession, "boss", "wrong-password") is None
    assert authenticate(dbsession, "nobody", "s3cret-enough") is None


def test_planner_needs_retailer_and_driver_needs_truck(dbsession):
    day = make_day(dbsession)
    with pytest.raises(AccountError, match="planner needs a retailer"):
        create_user(dbsession, "p", PASSWORD, Role.PLANNER)
    with pytest.raises(AccountError, match="driver needs a truck"):
        create_user(dbsession, "d", PASSWORD, Role.DRIVER)
    with pytest.raises(AccountError, match="not bound to a truck"):
        create_user(dbsession, "p", PASSWORD, Role.PLANNER, retailer=day.retailer, truck=day.trucks[0])
    planner = make_user(dbsession, Role.PLANNER, retailer=day.retailer)
    driver = make_user(dbsession, Role.DRIVER, truck=day.trucks[0])
    assert (planner.retailer_id, driver.truck_id) == (day.retailer.id, day.trucks[0].id)


def test_rejects_unknown_role_short_password_and_duplicate_name(dbsession):
    with pytest.raises(AccountError, match="unknown role"):
        create_user(dbsession, "x", PASSWORD, "superuser")
    with pytest.raises(AccountError, match="at least 8"):
        create_user(dbsession, "x", "short", Role.ADMIN)
    create_user(dbsession, "x", PASSWORD, Role.ADMIN)
    with pytest.raises(AccountError, match="already exists"):
        create_user(dbsession, "x", PASSWORD, Role.ADMIN)


def test_known_categories_are_seeded_with_both_names(dbsession):
    dairy = dbsession.get(Category, "dairy")
    assert (dairy.name_zh, dairy.name_en) == ("奶制品", "Dairy")
    assert dbsession.get(Category, "eggs").name_zh == "禽蛋"

"""The compiled goods value against the formula it compiles, written out with numpy."""
import numpy as np
import pytest

from scheduling.kernels import goods_worth, goods_worth_rows


def _by_numpy(stock, load, fair, value, balance, deep_share, deep_balance):
    shortfall = np.maximum(0.0, fair * load - stock)
    deep = np.maximum(0.0, deep_share * fair * load - stock)
    return (np.minimum(stock, load) - balance * shortfall - deep_balance * deep) @ value


def test_goods_worth_is_what_a_truck_hands_out_less_its_shortfalls():
    rng = np.random.default_rng(7)
    stock, load = rng.uniform(0, 100, (12, 8)), rng.uniform(0, 150, (12, 8))
    fair, value = rng.uniform(0.3, 1.0, 8), rng.uniform(0, 5, 8)
    weights = (rng.choice([1.0, 8.0], 8), 0.95, 4.0)
    expected = [_by_numpy(stock[k], load[k], fair, value, *weights) for k in range(12)]
    assert [goods_worth(stock[k], load[k], fair, value, *weights) for k in range(12)] == pytest.approx(expected)
    assert goods_worth_rows(stock, load, fair, value, *weights) == pytest.approx(expected)


def test_goods_worth_by_hand():
    """20 carried, 30 asked, fair share 0.8 (24): hands out 20, lacks 4 of the share and 2.8 of
    0.95 of it: 20 - 1 x 4 - 4 x 2.8 = 4.8 units, at 2 minutes each; with the shortfall below the
    share weighed 8 times: 20 - 8 x 4 - 4 x 2.8 = -23.2 units."""
    one = np.array([1.0])
    assert goods_worth(20 * one, 30 * one, 0.8 * one, 2 * one, 1.0 * one, 0.95, 4.0) == pytest.approx(2 * 4.8)
    assert goods_worth(20 * one, 30 * one, 0.8 * one, 2 * one, 8.0 * one, 0.95, 4.0) == pytest.approx(2 * -23.2)

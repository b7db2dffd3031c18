"""pricing.money: the one rule every page shows dollars by (tables of cases)."""

from decimal import Decimal

import pytest

from inspector import pricing


@pytest.mark.parametrize(
    ("amount", "shown"),
    [
        (None, "—"),
        (Decimal(0), "$0"),
        (Decimal("12.3456"), "$12.35"),
        (Decimal("12.345"), "$12.35"),
        (Decimal("12.5"), "$12.50"),
        (Decimal("1234.567"), "$1,234.57"),
        (Decimal("0.5"), "$0.500"),
        (Decimal("0.10"), "$0.100"),
        (Decimal("0.0123456"), "$0.0123"),
        (Decimal("0.00581"), "$0.00581"),
        (Decimal("0.0050"), "$0.00500"),
        (Decimal("0.0012"), "$0.00120"),
        (Decimal("0.000675"), "$0.000675"),
        (Decimal("0.000001"), "$0.00000100"),
        (Decimal("0.0000001"), "<$0.000001"),
        (Decimal("-0.5"), "-$0.500"),
    ],
)
def test_money_shows_cents_from_a_dollar_and_three_significant_digits_below(amount, shown):
    assert pricing.money(amount) == shown


@pytest.mark.parametrize(
    ("amount", "shown"),
    [
        (Decimal("0.9996"), "$1.00"),
        (Decimal("0.009996"), "$0.0100"),
        (Decimal("0.0009995"), "$0.00100"),
    ],
)
def test_money_rounding_up_to_a_new_digit_keeps_three_significant_digits(amount, shown):
    assert pricing.money(amount) == shown


def test_amounts_compared_side_by_side_show_as_many_digits():
    costs = [Decimal("0.0123456"), Decimal("0.00581"), Decimal("0.0050"), Decimal("0.000675")]
    shown = [pricing.money(cost).lstrip("$0.") for cost in costs]
    assert [len(digits) for digits in shown] == [3, 3, 3, 3]

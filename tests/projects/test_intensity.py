"""Demand intensity (§6): decay, once per reporter per theme per 30 days, per 100 households, windows."""
from datetime import date, timedelta

import pytest

from portal.projects import intensity
from tests.helpers import make_estate
from tests.projects.builders import add_signals

AS_OF = date(2026, 11, 30)


def test_decay_halves_every_180_days_and_rate_is_per_100_households(app):
    estate = make_estate(household_count=200)
    add_signals(estate, "drainage", [1, 181, 361], as_of=AS_OF)
    result = intensity.scoring_intensity([estate.id], ["drainage"], AS_OF)
    assert result.counted == 3
    one_day = 0.5 ** (1 / 180)
    assert result.weighted == pytest.approx((1 + 0.5 + 0.25) * one_day)
    assert result.per_100 == pytest.approx(1.75 * one_day * 100 / 200)


def test_signals_outside_the_365_day_window_or_other_themes_do_not_count(app):
    estate = make_estate(household_count=100)
    add_signals(estate, "drainage", [10, 366], as_of=AS_OF)
    add_signals(estate, "parking", [10], as_of=AS_OF)
    result = intensity.scoring_intensity([estate.id], ["drainage"], AS_OF)
    assert result.counted == 1 and result.seen == 1


def test_one_reporter_counts_once_per_theme_per_30_days(app):
    estate = make_estate(household_count=100)
    # 100, 90 and 75 days ago: 90 is within 30 days of 100 and is dropped; 75 is measured from the last
    # *counted* one (100), 25 days < 30, so it is dropped too; 60 is 40 days on and counts.
    add_signals(estate, "noise", [100, 90, 75, 60], as_of=AS_OF, reporter="same-phone")
    add_signals(estate, "parking", [95], as_of=AS_OF, reporter="same-phone")
    noise = intensity.scoring_intensity([estate.id], ["noise"], AS_OF)
    assert (noise.seen, noise.counted) == (4, 2)
    both = intensity.scoring_intensity([estate.id], ["noise", "parking"], AS_OF)
    assert both.counted == 3


def test_urgent_share_is_among_counted_signals(app):
    estate = make_estate(household_count=100)
    add_signals(estate, "gas", [1, 2, 3], as_of=AS_OF)
    add_signals(estate, "gas", [4], as_of=AS_OF, urgent=True)
    assert intensity.scoring_intensity([estate.id], ["gas"], AS_OF).urgent_share == pytest.approx(0.25)


def test_project_intensity_is_the_sum_of_its_pairs(app):
    a, b = make_estate(household_count=100), make_estate(household_count=300)
    add_signals(a, "drainage", [5, 50], as_of=AS_OF)
    add_signals(b, "drainage", [5], as_of=AS_OF)
    add_signals(b, "elevator", [20, 200], as_of=AS_OF)
    end = intensity.window_end(AS_OF)
    pairs = intensity.by_pair(end - timedelta(days=365), end, decay_to=end)
    project = intensity.scoring_intensity([a.id, b.id], ["drainage", "elevator"], AS_OF)
    assert project.weighted == pytest.approx(sum(p.weighted for p in pairs.values()))
    assert project.households == 400
    assert project.per_100 == pytest.approx(project.weighted / 4)


def test_without_decay_a_window_counts_plain_weights(app):
    estate = make_estate(household_count=50)
    add_signals(estate, "roads", [10, 100, 170], as_of=AS_OF, weight=2.0)
    end = intensity.window_end(AS_OF)
    result = intensity.for_estates_and_themes([estate.id], ["roads"], end - timedelta(days=180), end)
    assert result.weighted == pytest.approx(6.0)
    assert result.per_100 == pytest.approx(12.0)


def test_no_estates_or_no_themes_is_zero(app):
    estate = make_estate(household_count=50)
    add_signals(estate, "roads", [1], as_of=AS_OF)
    assert intensity.scoring_intensity([], ["roads"], AS_OF).per_100 == 0
    assert intensity.scoring_intensity([estate.id], [], AS_OF).counted == 0

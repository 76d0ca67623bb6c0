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


def test_reporters_interleaved_in_time_each_keep_their_own_30_days(app):
    """The walk reads a pair's signals in time order, all reporters mixed: each reporter's 30 days run from
    their own last counted signal."""
    estate = make_estate(household_count=100)
    for reporter, ages in (("phone-a", [100, 90, 60]), ("phone-b", [95, 80, 50]), ("phone-c", [85])):
        add_signals(estate, "heating", ages, as_of=AS_OF, reporter=reporter)
    result = intensity.scoring_intensity([estate.id], ["heating"], AS_OF)
    # a: 100 and 60 (90 is 10 days on); b: 95 and 50 (80 is 15 days on); c: 85
    assert (result.seen, result.counted) == (7, 5)
    counted_ages = sorted(round((intensity.window_end(AS_OF) - s.occurred_at).days) for s in result.signals)
    assert counted_ages == [50, 60, 85, 95, 100]


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


def test_many_sets_at_once_equal_each_set_alone(app):
    """The ranking reads every candidate's demand in one pass (scoring_intensities): overlapping estates
    and themes, a repeat reporter, an estate with no signals and an empty set must give what each set
    gives on its own."""
    a, b, c = (make_estate(household_count=n) for n in (100, 250, 80))
    add_signals(a, "drainage", [5, 50, 400], as_of=AS_OF)
    add_signals(a, "parking", [3, 10, 12], as_of=AS_OF, reporter="one-phone")
    add_signals(b, "drainage", [1, 200], as_of=AS_OF, urgent=True)
    add_signals(b, "elevator", [20, 30, 300], as_of=AS_OF)
    add_signals(c, "noise", [2], as_of=AS_OF)
    wanted = {"ab-drainage": ([a.id, b.id], ["drainage"]), "a-all": ([a.id], ["drainage", "parking", "elevator"]),
              "b-both": ([b.id, b.id], ["elevator", "drainage"]), "c-none": ([c.id], ["drainage"]),
              "empty": ([], ["noise"]), "no-themes": ([a.id], [])}
    together = intensity.scoring_intensities(wanted, AS_OF)
    assert set(together) == set(wanted)
    for key, (estates, themes) in wanted.items():
        alone = intensity.scoring_intensity(estates, themes, AS_OF)
        got = together[key]
        assert (got.counted, got.urgent, got.seen, got.households) == (alone.counted, alone.urgent, alone.seen,
                                                                       alone.households), key
        assert got.weighted == pytest.approx(alone.weighted), key
        assert got.per_100 == pytest.approx(alone.per_100), key
    assert together["a-all"].counted == 3  # 400 days is out of the window; one phone's 3 parking calls count once
    assert together["ab-drainage"].urgent == 2


def test_many_pairs_are_read_in_chunks_in_order(app, monkeypatch):
    """More pairs than one IN list holds: the chunks must still arrive in (estate, theme) order."""
    monkeypatch.setattr(intensity, "CHUNK", 4)  # two pairs per query
    estates = [make_estate(household_count=100) for _ in range(3)]
    for n, estate in enumerate(estates):
        add_signals(estate, "roads", [1, 2], as_of=AS_OF, reporter=f"p{n}")
        add_signals(estate, "gas", [40 + n], as_of=AS_OF)
    wanted = {e.id: ([e.id], ["roads", "gas"]) for e in estates} | {"all": ([e.id for e in estates], ["roads", "gas"])}
    together = intensity.scoring_intensities(wanted, AS_OF)
    assert together["all"].counted == 6  # each estate: one phone's two roads calls count once, plus gas
    for estate in estates:
        assert together[estate.id].counted == 2

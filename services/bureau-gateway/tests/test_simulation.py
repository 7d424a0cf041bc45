"""The simulated bureaus: a deterministic report per (country, document), realistic per country, and
the behaviour settings and injected faults ask for."""

import random
from datetime import timedelta
from decimal import Decimal

import pytest
from bureau_gateway_harness import FakeClock, FakeSleep
from hypothesis import given, settings
from hypothesis import strategies as st

from bureau_gateway.adapter import BureauTimeout, BureauUnavailable
from bureau_gateway.bureaus import PROFILES, Country
from bureau_gateway.faults import FaultBoard, FaultKind, FaultSpec
from bureau_gateway.simulation import (
    MAX_ACCOUNT_AGE_MONTHS,
    MAX_OBLIGATIONS_PER_MILLE,
    MAX_REMAINING_MONTHS,
    SimulatedBureau,
    SimulationSettings,
    simulated_file,
)

documents = st.text(alphabet="0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=6, max_size=18)
countries = st.sampled_from(list(Country))

EXPECTED_SCALES = {
    Country.ES: (300, 850),
    Country.PT: (300, 850),
    Country.IT: (300, 850),
    Country.MX: (400, 850),
    Country.CO: (150, 950),
    Country.BR: (0, 1000),
}
EXPECTED_PROVIDERS = {
    Country.ES: ("ASNEF", "EUR"),
    Country.PT: ("BANCO_DE_PORTUGAL_CRC", "EUR"),
    Country.IT: ("CRIF", "EUR"),
    Country.MX: ("BURO_DE_CREDITO", "MXN"),
    Country.CO: ("DATACREDITO", "COP"),
    Country.BR: ("SERASA", "BRL"),
}


def test_each_country_has_its_bureau_currency_and_scale():
    for country, profile in PROFILES.items():
        assert (profile.provider, profile.currency) == EXPECTED_PROVIDERS[country]
        assert (profile.score_min, profile.score_max) == EXPECTED_SCALES[country]


@given(country=countries, document=documents)
def test_the_same_document_gets_the_same_file(country, document):
    assert simulated_file(PROFILES[country], document) == simulated_file(PROFILES[country], document)


def test_the_same_digits_get_different_files_in_different_countries():
    files = {simulated_file(PROFILES[country], "700000123") for country in Country}
    assert len(files) == len(Country)


def test_different_documents_get_different_files():
    profile = PROFILES[Country.ES]
    files = {simulated_file(profile, f"{n:08d}") for n in range(200)}
    assert len(files) > 190


@settings(max_examples=400)
@given(country=countries, document=documents)
def test_every_file_is_within_the_countrys_realistic_ranges(country, document):
    profile = PROFILES[country]
    credit = simulated_file(profile, document)
    if credit.credit_score is not None:
        assert profile.score_min <= credit.credit_score <= profile.score_max
    for amount in (credit.total_debt, credit.monthly_obligations):
        assert isinstance(amount, Decimal)
        assert amount.as_tuple().exponent == -2  # exactly two places
        assert amount >= 0
    ceiling = profile.typical_monthly_income * MAX_OBLIGATIONS_PER_MILLE / 1000 + 1
    assert credit.monthly_obligations <= ceiling
    # Debt is what is left to repay on the obligations (plus arrears): none without obligations.
    assert (credit.total_debt == 0) == (credit.monthly_obligations == 0)
    assert credit.total_debt <= credit.monthly_obligations * (MAX_REMAINING_MONTHS + 12)
    assert 0 <= credit.account_age_months <= MAX_ACCOUNT_AGE_MONTHS


@pytest.mark.parametrize("country", list(Country))
def test_about_one_in_ten_has_defaults_and_one_in_twenty_no_score(country):
    rng = random.Random(f"shares-{country}")
    files = [simulated_file(PROFILES[country], str(rng.randrange(10**10))) for _ in range(4000)]
    defaults = sum(credit.has_defaults for credit in files) / len(files)
    no_score = sum(credit.credit_score is None for credit in files) / len(files)
    assert 0.08 <= defaults <= 0.12
    assert 0.035 <= no_score <= 0.065


@pytest.mark.parametrize("country", list(Country))
def test_typical_applicants_owe_amounts_sized_to_the_countrys_incomes(country):
    profile = PROFILES[country]
    rng = random.Random(f"sizes-{country}")
    files = [simulated_file(profile, str(rng.randrange(10**10))) for _ in range(2000)]
    paying = sorted(credit.monthly_obligations for credit in files if credit.monthly_obligations)
    median_share = paying[len(paying) // 2] / profile.typical_monthly_income
    assert Decimal("0.05") <= median_share <= Decimal("0.25")
    scores = sorted(credit.credit_score for credit in files if credit.credit_score is not None)
    low, high = profile.score_min, profile.score_max
    median_position = Decimal(scores[len(scores) // 2] - low) / (high - low)
    assert Decimal("0.55") <= median_position <= Decimal("0.75")


def test_those_with_defaults_score_lower():
    profile = PROFILES[Country.ES]
    rng = random.Random("defaults-score")
    files = [simulated_file(profile, str(rng.randrange(10**10))) for _ in range(3000)]

    def mean_score(group):
        scores = [credit.credit_score for credit in group if credit.credit_score is not None]
        return sum(scores) / len(scores)

    assert (
        mean_score([f for f in files if f.has_defaults])
        < mean_score([f for f in files if not f.has_defaults]) - 100
    )


def bureau(country=Country.ES, *, clock=None, rng=None, **behaviour):
    clock = clock or FakeClock()
    sleep = FakeSleep(clock)
    faults = FaultBoard(clock)
    simulated = SimulatedBureau(
        PROFILES[country],
        settings=SimulationSettings(**behaviour),
        faults=faults,
        clock=clock,
        sleep=sleep,
        rng=rng or random.Random(1),
    )
    return simulated, faults, sleep


async def test_a_report_takes_the_configured_latency_and_jitter():
    simulated, _, sleep = bureau(latency=0.02, latency_jitter=0.01)
    for _ in range(50):
        await simulated.fetch("70000123A", "consent-1")
    assert all(0.02 <= pause <= 0.03 for pause in sleep.pauses)
    assert max(sleep.pauses) - min(sleep.pauses) > 0.005


async def test_a_report_carries_the_simulated_file_and_a_fresh_enquiry_id():
    simulated, _, _ = bureau(Country.MX)
    first = await simulated.fetch("HEGA800101HDFRRN05", "consent-1")
    second = await simulated.fetch("HEGA800101HDFRRN05", "consent-1")
    assert first.credit == second.credit == simulated_file(PROFILES[Country.MX], "HEGA800101HDFRRN05")
    assert (first.provider, first.currency, first.fallback) == ("BURO_DE_CREDITO", "MXN", False)
    assert first.report_id.startswith("BURO_DE_CREDITO-")
    assert first.report_id != second.report_id
    assert "HEGA800101HDFRRN05" not in first.report_id


async def test_the_configured_failure_rate_fails_that_share_of_calls_transiently():
    simulated, _, _ = bureau(failure_rate=0.3, rng=random.Random(7))
    failures = 0
    for _ in range(1000):
        try:
            await simulated.fetch("70000123A", "consent-1")
        except BureauUnavailable:
            failures += 1
    assert 250 <= failures <= 350


async def test_an_injected_outage_fails_at_once():
    simulated, faults, sleep = bureau()
    faults.inject(Country.ES, FaultSpec(FaultKind.OUTAGE))
    with pytest.raises(BureauUnavailable):
        await simulated.fetch("70000123A", "consent-1")
    assert sleep.pauses == []


async def test_an_injected_timeout_hangs_until_long_after_any_deadline():
    simulated, faults, sleep = bureau(hang=30.0)
    faults.inject(Country.ES, FaultSpec(FaultKind.TIMEOUT))
    with pytest.raises(BureauTimeout):
        await simulated.fetch("70000123A", "consent-1")
    assert sleep.pauses == [30.0]


async def test_an_injected_fault_touches_only_its_country():
    clock = FakeClock()
    simulated, faults, _ = bureau(Country.PT, clock=clock)
    faults.inject(Country.ES, FaultSpec(FaultKind.OUTAGE))
    assert (await simulated.fetch("100000010", "consent-1")).fallback is False


async def test_a_flaky_fault_fails_its_share_and_adds_its_latency():
    simulated, faults, sleep = bureau(latency=0.01, latency_jitter=0.0, rng=random.Random(3))
    faults.inject(
        Country.ES, FaultSpec(FaultKind.FLAKY, failure_rate=0.5, added_latency=timedelta(milliseconds=40))
    )
    failures = 0
    for _ in range(400):
        try:
            await simulated.fetch("70000123A", "consent-1")
        except BureauUnavailable:
            failures += 1
    assert 150 <= failures <= 250
    assert all(pause == pytest.approx(0.05) for pause in sleep.pauses)


async def test_a_fault_ends_when_its_duration_has_passed():
    clock = FakeClock()
    simulated, faults, _ = bureau(clock=clock)
    faults.inject(Country.ES, FaultSpec(FaultKind.OUTAGE, duration=timedelta(seconds=5)))
    with pytest.raises(BureauUnavailable):
        await simulated.fetch("70000123A", "consent-1")
    clock.advance(5)
    assert (await simulated.fetch("70000123A", "consent-1")).fallback is False

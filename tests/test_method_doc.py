"""The repository documents the method it implements (docs/METHOD.md), and the README points there.

The settings table must name real settings with their real defaults, so the page cannot drift
from the code silently."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import pytest

from yixiang.aftercare.conf import DEFAULTS as AFTERCARE
from yixiang.incentives import rules
from yixiang.incentives.conf import DEFAULTS as INCENTIVES
from yixiang.pipeline.conf import DEFAULTS as PIPELINE

ROOT = Path(__file__).resolve().parent.parent
METHOD = (ROOT / "docs" / "METHOD.md").read_text(encoding="utf-8")
SETTINGS = {**PIPELINE, **AFTERCARE, **INCENTIVES}


def _links(text: str) -> list[str]:
    return re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", text)


def test_the_readme_links_the_method_page_and_nothing_outside_the_repository():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "(docs/METHOD.md)" in readme
    assert "../" not in readme and "DOMAIN.md" not in readme
    for target in _links(readme):
        if not target.startswith(("http://", "https://", "mailto:")):
            assert (ROOT / target).exists(), target


def test_the_method_page_links_only_files_of_the_repository():
    for target in _links(METHOD):
        assert not target.startswith(("http://", "https://")), target
        assert (ROOT / "docs" / target).resolve().is_relative_to(ROOT), target
        assert (ROOT / "docs" / target).exists(), target


@pytest.mark.parametrize(
    "numbers",
    [
        "15 days",  # stage 0 cadence
        "7 days",  # stages 1–2
        "3 days",  # stages 3–4
        "about 20",
        "about 40",
        "about 10",
        "moves **earlier**",  # holidays at stages 3–4
        "7,950",
        "50,000",
        "−800",
        "−300",
        "−500",
        "+1,000",
        "+700",
        "−3,000",
        "−1,000",
        "21 days",
        "6th at 08:00",
        "always paid in full",
        "region reports",
        "Eight levels",
        "可被接受的最低限度",
    ],
)
def test_the_method_page_carries_the_numbers_of_the_method(numbers):
    assert numbers in METHOD


def _table_rows() -> list[str]:
    section = METHOD.split("## What the product adds: settings and defaults", 1)[1].split("\n## ", 1)[0]
    return [line for line in section.splitlines() if line.startswith("| ") and "`" in line]


def test_every_setting_named_in_the_settings_table_exists():
    named = {name for row in _table_rows() for name in re.findall(r"`([A-Z][A-Z_]+)(?:\[[^\]]*\])?`", row)}
    assert named, "the table names settings"
    prefixes = {n for n in named if n.endswith("_")}
    for name in named - prefixes:
        assert name in SETTINGS, f"{name} is listed in docs/METHOD.md but is no setting"
    for prefix in prefixes:
        assert any(key.startswith(prefix) for key in SETTINGS), prefix


@pytest.mark.parametrize(
    ("setting", "shown"),
    [
        ("MAX_TRACKED", "80"),
        ("MAX_CLAIMS_PER_DAY", "10"),
        ("RECLAIM_BLOCK_DAYS", "30 days"),
        ("RELEASE_MIN_CONTACTS", "6"),
        ("RELEASE_NO_RISE_DAYS", "60 days"),
        ("RELEASE_DM_ATTEMPTS", "4"),
        ("RECYCLE_OVERDUE_DAYS", "30"),
        ("RECYCLE_HOLD_DAYS", "180"),
        ("RECYCLE_WARN_DAYS", "2 days"),
        ("RECYCLE_LOCKS_PER_REP", "5"),
        ("RECYCLE_RECENT_RISE_DAYS", "30 days"),
        ("RELEASE_PROPOSAL_SNOOZE_DAYS", "30 days"),
        ("ACCURACY_SIGN_WITHIN_DAYS", "90 days"),
        ("FIRST_CONTACT_HOURS", "24 h"),
        ("PAYOUT_NOTICE_DAYS", "7"),
        ("RENEWAL_NOTICE_DAYS", "30 days"),
        ("LAPSE_DAYS", "90 days"),
        ("REFERRAL_REWARD_YUAN", "500 yuan"),
        ("REPLY_WINDOW_HOURS", "12 h"),
        ("INCENTIVES_CORRECTION_MONTHS", "6"),
        ("HOLIDAY_CALENDAR_WARN_MONTH", "12"),
    ],
)
def test_each_setting_is_shown_with_its_default(setting, shown):
    assert Decimal(str(SETTINGS[setting])) == Decimal(re.match(r"[\d.]+", shown).group(0))
    row = next(r for r in _table_rows() if f"`{setting}`" in r)
    assert shown in row, f"{setting}: {row}"


def test_the_cadence_and_balance_defaults_are_those_on_the_page():
    assert PIPELINE["CADENCE_DAYS"] == {-1: 30, 0: 15, 1: 7, 2: 7, 3: 3, 4: 3, 5: 15}
    assert PIPELINE["BALANCE_TARGETS"] == {"0": 20, "1-2": 40, "3-4": 10} and PIPELINE["BALANCE_TOLERANCE"] == 0.25
    assert "20 / 40 / 10, ±25 %" in METHOD


def test_the_scheme_numbers_on_the_page_are_the_seed_schemes():
    seed = rules.SEED
    assert (seed.valid_floor, seed.double_floor, seed.min_days_on_staff) == (7950, 50000, 21)
    assert seed.reward_steps[2] == ((7950, 300), (20000, 500), (50000, 1000))
    assert seed.reward_steps[1] == ((7950, 200), (20000, 400), (50000, 700))
    assert seed.counted_categories == ()  # "empty by default, meaning every payment counts"
    assert "empty by default, meaning every payment counts" in METHOD

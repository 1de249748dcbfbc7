"""The loyalty ladder as seed 003 has it (issue 15): eight named levels with all three columns,
the lowest acceptable line under 满意的, a recovery action for every level below it, and a climb
of one level at a time on evidence."""

from __future__ import annotations

import pytest
from django.utils import translation

from yixiang.aftercare import loyalty_ladder as ladder
from yixiang.aftercare import services_loyalty
from yixiang.aftercare.models import LoyaltyLevel
from yixiang.errors import ValidationFailed


def test_eight_levels_with_the_seeds_names_best_first():
    assert [r.name_zh for r in ladder.LADDER] == [
        "忠诚的",
        "非常满意的",
        "满意的",
        "无动于衷的",
        "不悦",
        "做错事",
        "生气",
        "告状",
    ]
    assert list(ladder.CODES) == list(LoyaltyLevel.values)  # the stored levels are the ladder's


def test_every_level_has_all_three_columns():
    for r in ladder.LADDER:
        assert str(r.tells) and str(r.refers) and str(r.buys_again), r.code
    with translation.override("zh-hans"):
        assert str(ladder.rung("satisfied").buys_again) == "如果方便的话，也许会购买"
        assert str(ladder.rung("wronged").tells) == "25个人以上"
    with translation.override("en"):
        assert str(ladder.rung("angry").buys_again) == "never"


def test_satisfied_is_the_lowest_acceptable_level_and_indifferent_is_below_it():
    assert ladder.is_acceptable("satisfied")
    assert not ladder.is_acceptable("indifferent")


def test_each_level_below_acceptable_suggests_its_recovery_action():
    below = [r.code for r in ladder.LADDER if not ladder.is_acceptable(r.code)]
    assert below == ["indifferent", "unhappy", "wronged", "angry", "complaining"]
    assert all(ladder.recovery_action(code) for code in below)
    assert not any(ladder.recovery_action(code) for code in ("loyal", "very_satisfied", "satisfied"))


def test_a_customer_climbs_one_level_at_a_time_on_evidence():
    assert ladder.climb_problem(current="satisfied", new="loyal", note="介绍了朋友") == "too_far"
    assert ladder.climb_problem(current="satisfied", new="very_satisfied", note="") == "no_evidence"
    assert ladder.climb_problem(current="satisfied", new="very_satisfied", note="续约") is None
    assert ladder.climb_problem(current="loyal", new="complaining", note="") is None  # a fall is not limited
    assert ladder.climb_problem(current="", new="loyal", note="") is None  # the first assessment


@pytest.mark.django_db
def test_the_service_refuses_a_jump_and_changes_nothing(org):
    c = org.customer(org.rep, "跳级")
    services_loyalty.loyalty_set(actor=org.rep, customer=c, level="indifferent")
    with pytest.raises(ValidationFailed):
        services_loyalty.loyalty_set(actor=org.rep, customer=c, level="very_satisfied", note="很满意")
    with pytest.raises(ValidationFailed):
        services_loyalty.loyalty_set(actor=org.rep, customer=c, level="satisfied")
    care = services_loyalty.loyalty_set(actor=org.rep, customer=c, level="satisfied", note="问题解决了，表示满意")
    assert care.loyalty_level == "satisfied"


@pytest.mark.django_db
def test_the_panel_shows_the_ladder_the_line_and_the_recovery_action(org, client):
    from django.urls import reverse

    from yixiang.testing import PASSWORD

    c = org.customer(org.rep, "不悦客户")
    services_loyalty.loyalty_set(actor=org.rep, customer=c, level="unhappy")
    client.login(username=org.rep.username, password=PASSWORD)
    html = client.get(reverse("customer_aftercare_panel", args=[c.pk])).content.decode()
    assert "可被接受的最低限度" in html
    assert "无动于衷的" in html and "告状" in html and "数年后，也许吧" in html
    assert "立即致电：倾听，找到原因，记为投诉并解决。" in html

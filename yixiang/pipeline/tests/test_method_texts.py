"""The stage texts are the seed's (DOMAIN.md §1, issue 15), in Chinese as the seed words them with
their English, and a mobile or integration client reads them from GET /api/v1/method."""

from __future__ import annotations

import pytest

from yixiang.pipeline.playbook import get_playbook


def _all(stage: int) -> str:
    g = get_playbook().guide(stage)
    return " ".join([g.definition, *g.questions, *g.lift_tips, *(s.text for s in g.signals)])


def test_stage_zero_needs_both_little_internet_knowledge_and_an_agreed_next_time():
    g = get_playbook().guide(0)
    assert "您平常上网吗？有没有用过百度？" in " ".join(g.questions)
    assert "我晚些时候打过来可以吗？您看几点方便？" in " ".join(g.questions)
    assert any("对网络了解不多，并且同意约定下次跟进时间" in q for q in g.questions)
    assert {"knows_little_internet", "agrees_next_time"} <= {s.code for s in g.signals}


def test_stage_one_is_judged_with_the_need_oriented_selling_tool():
    g = get_playbook().guide(1)
    assert any("客户需求导向的专业销售工具" in q for q in g.questions)
    assert "认同" not in " ".join(g.questions)  # agreeing with the analysis is stage 2's test


def test_stage_two_asks_the_seeds_two_questions():
    g = get_playbook().guide(2)
    assert "我刚才对您企业情况的分析，您是否认同？" in g.questions
    assert "我刚才讲的，您有什么问题？" in g.questions
    assert get_playbook().signal_stage["agrees_analysis"] == 2


def test_stage_three_signals_include_the_concrete_promotion_method():
    assert "具体推广方法" in _all(3)
    assert get_playbook().signal_stage["asks_promotion_method"] == 3


def test_stage_four_has_the_travelling_close_and_the_sole_decider_check():
    questions = " ".join(get_playbook().guide(4).questions)
    assert "那到时候我直接带上证件和合同过来跟您当面办理下手续，行吧？" in questions
    assert "我明天上午10:30直接带合同过来" in questions
    assert "推广的事情就您一个人确定就可以了吧？" in questions


def test_lifting_tips_follow_the_seed():
    pb = get_playbook()
    assert any("表示理解" in t for t in pb.lift_tips(0))  # 0 → 1
    assert any("销售工具" in t for t in pb.lift_tips(1))  # 1 → 2
    assert any("渠道有何不同" in t for t in pb.lift_tips(2))  # 2 → 3
    assert any("逼单" in t for t in pb.lift_tips(3))  # 3 → 4
    assert any("专业度" in t for t in pb.lift_tips(-1))  # rejecting → 0


@pytest.mark.django_db
def test_the_api_serves_the_method_in_chinese_and_english(org, api_as):
    r = api_as(org.rep).get("/api/v1/method")
    assert r.status_code == 200, r.content
    stages = {s["stage"]: s for s in r.json()["stages"]}
    assert set(stages) == {-1, 0, 1, 2, 3, 4, 5}
    two = stages[2]
    assert {"zh": "我刚才讲的，您有什么问题？", "en": '"What questions do you have about what I just said?"'} in two[
        "questions"
    ]
    price = next(s for s in stages[3]["signals"] if s["code"] == "asks_price")
    assert (price["zh"], price["en"]) == ("询问价格", "Asks the price")
    for stage in stages.values():
        for item in [*stage["signals"], *stage["questions"], *stage["lift_tips"]]:
            assert item["zh"] and item["en"], item


@pytest.mark.django_db
def test_the_method_needs_a_login(client):
    assert client.get("/api/v1/method").status_code == 401

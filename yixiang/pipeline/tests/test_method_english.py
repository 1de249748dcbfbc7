"""The method in English (issue 14): every Chinese text of the method has its English, and the
English interface shows it with the Chinese original beside it; the Chinese interface is unchanged."""

from __future__ import annotations

import json

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation

from yixiang.customers.rules import QUALIFICATION_ITEMS
from yixiang.pipeline.playbook import DATA_DIR, english_text, get_playbook
from yixiang.pipeline.tests.factories import set_state
from yixiang.testing import PASSWORD


def method_texts() -> list[str]:
    texts = []
    for g in get_playbook().stages.values():
        texts += [g.definition, g.purpose, *g.questions, *g.lift_tips, *(s.text for s in g.signals)]
    texts += [label for items in QUALIFICATION_ITEMS.values() for _, label in items]
    return [t for t in texts if t]


def test_every_method_text_has_its_english():
    with translation.override("en"):
        missing = [t for t in method_texts() if english_text(t) is None]
    assert not missing, f"add these to playbook_data/playbook.en.json: {missing[:5]}"
    table = json.loads((DATA_DIR / "playbook.en.json").read_text(encoding="utf-8"))["texts"]
    stale = sorted(set(table) - set(method_texts()))
    assert not stale, f"English for texts the method no longer has: {stale[:5]}"


def test_chinese_interface_gets_no_english():
    with translation.override("zh-hans"):
        assert english_text("询问价格") is None
    with translation.override("en"):
        assert english_text("询问价格") == "Asks the price"


@pytest.mark.django_db
def test_followup_form_and_customer_page_show_the_method_in_english_beside_the_chinese(org):
    customer = set_state(org.customer(org.rep, "王五", qualification=["income"]), stage=2)
    c = Client()
    assert c.login(username=org.rep.username, password=PASSWORD)
    zh = c.get(reverse("followup_create", args=[customer.pk])).content.decode()
    assert "询问价格" in zh and "Asks the price" not in zh and "method-zh" not in zh
    c.post(reverse("set_language"), {"language": "en", "next": "/"})
    en = c.get(reverse("followup_create", args=[customer.pk])).content.decode()
    # A stage-3 signal, a judging question and a lifting tip toward stage 3, each with its original.
    for english, chinese in (
        ("Asks the price", "询问价格"),
        (
            "Hand over the contract or another closing signal; not resented ⇒ stage 3",
            "递交合同等成交信号，客户不反感 ⇒ 3阶段",
        ),
        ("Know and believe in the product", "了解并相信自己的产品"),
    ):
        assert (
            f'<span class="method-en">{english}</span> <small class="method-zh" lang="zh-Hans">{chinese}</small>' in en
        )
    page = c.get(reverse("customer_detail", args=[customer.pk])).content.decode()
    assert '<span class="method-en">Stable income</span>' in page and "收入稳定" in page

"""The public pool page as a rep works it: claims left, filters, former owner and reason,
"entered pool" always filled, and no claim button where the claim would be refused."""

import datetime as dt
import re

import pytest
from django.utils import timezone

from yixiang.pipeline import pool
from yixiang.pipeline.models import OwnerChange, ReleaseProposal
from yixiang.pipeline.tests.factories import set_state

pytestmark = pytest.mark.django_db


def _login(client, user):
    client.force_login(user)
    return client


def _row(html: str, name: str) -> str:
    """The table row that holds ``name``."""
    for row in re.findall(r"<tr>.*?</tr>", html, flags=re.S):
        if name in row:
            return row
    raise AssertionError(f"{name} not in the pool table")


def test_claims_left_today_counts_down(client, org):
    for i in range(3):
        org.customer(None, name=f"池{i}")
    client = _login(client, org.rep)
    assert "今天还可领取 10 个" in client.get("/pool/").content.decode()
    pool.claim_from_pool(actor=org.rep, customer=org.customer(None, name="领走"))
    assert "今天还可领取 9 个" in client.get("/pool/").content.decode()


def test_entered_pool_is_filled_for_customers_created_in_the_pool_and_released(client, org):
    created = org.customer(None, name="新建入池")
    released = org.customer(org.rep, name="被踢出")
    pool.customer_release(actor=org.rep, customer=released, reason="no_rise")
    html = _login(client, org.teammate).get("/pool/").content.decode()
    today = timezone.localdate().isoformat()
    for name in ("新建入池", "被踢出"):
        assert f">{today}</time>" in _row(html, name), name
    assert created.created_at  # the creation is its entry into the pool


def test_former_owner_and_reason_in_words(client, org):
    c = org.customer(org.rep, name="多次无果")
    pool.customer_release(actor=org.rep, customer=c, reason="no_rise")
    html = _login(client, org.teammate).get("/pool/").content.decode()
    row = _row(html, "多次无果")
    assert org.rep.label in row
    assert "多次联系无提升" in row and "no_rise" not in row


def test_no_claim_button_on_a_row_the_rep_let_go_recently(client, org):
    mine = org.customer(org.rep, name="我放弃的")
    pool.customer_release(actor=org.rep, customer=mine, reason="no_rise")
    org.customer(None, name="可以领")
    html = _login(client, org.rep).get("/pool/").content.decode()
    locked = _row(html, "我放弃的")
    assert f"/customers/{mine.pk}/claim/" not in locked
    assert "30 天" in locked
    assert "/claim/" in _row(html, "可以领")


def test_no_claim_button_anywhere_when_the_daily_limit_is_reached(client, org, settings):
    settings.YIXIANG = {**settings.YIXIANG, "MAX_CLAIMS_PER_DAY": 1}
    pool.claim_from_pool(actor=org.rep, customer=org.customer(None, name="今天领的"))
    org.customer(None, name="还在池里")
    html = _login(client, org.rep).get("/pool/").content.decode()
    assert "/claim/" not in _row(html, "还在池里")
    assert "已达今日上限" in _row(html, "还在池里")
    assert "今天还可领取 0 个" in html


def test_filters_region_industry_stage_reason_and_days(client, org):
    a = org.customer(None, name="杭州餐饮", city="杭州", industry="餐饮")
    org.customer(None, name="南京物流", city="南京", industry="物流")
    b = set_state(org.customer(org.rep, name="二阶段踢出", city="杭州", industry="物流"), stage=2)
    pool.customer_release(actor=org.rep, customer=b, reason="no_decision_maker")
    old = org.customer(None, name="老池客户", city="南京", industry="餐饮")
    OwnerChange.objects.create(
        customer=old, to_owner=None, reason=OwnerChange.Reason.RECYCLE, detail="overdue",
        at=timezone.now() - dt.timedelta(days=45),
    )  # fmt: skip
    client = _login(client, org.teammate)

    def names(query: str) -> set[str]:
        html = client.get("/pool/?" + query).content.decode()
        return {n for n in ("杭州餐饮", "南京物流", "二阶段踢出", "老池客户") if n in html.split("<tbody>")[-1]}

    assert names("city=杭州") == {"杭州餐饮", "二阶段踢出"}
    assert names("industry=餐饮") == {"杭州餐饮", "老池客户"}
    assert names("stage=2") == {"二阶段踢出"}
    assert names("reason=no_decision_maker") == {"二阶段踢出"}
    assert names("reason=overdue") == {"老池客户"}
    assert names("reason=new") == {"杭州餐饮", "南京物流"}
    assert names("days=31-90") == {"老池客户"}
    assert names("days=0-7") == {"杭州餐饮", "南京物流", "二阶段踢出"}
    assert names("city=杭州&stage=0") == {"杭州餐饮"}
    assert a.pk  # the filter choices list the pool's cities
    assert '<option value="南京"' in client.get("/pool/").content.decode()


# --- The tracked-list balance on the agenda: each imbalance with its next step ----------------------


def _balance(html: str) -> str:
    return html.split('id="tracked-balance"')[1].split("</section>")[0]


def test_too_few_at_stage_0_links_to_the_pool_filtered(client, org):
    html = _balance(_login(client, org.rep).get("/agenda/").content.decode())
    assert 'href="/pool/?stage=0"' in html and "从公海领取 0 阶段客户" in html


def test_too_many_at_1_2_links_to_the_release_proposals(client, org, settings):
    settings.YIXIANG = {**settings.YIXIANG, "BALANCE_TARGETS": {"0": 0, "1-2": 1, "3-4": 0}}
    crowd = [set_state(org.customer(org.rep, name=f"一阶段{i}"), stage=1) for i in range(4)]
    client = _login(client, org.rep)
    html = _balance(client.get("/agenda/").content.decode())
    assert "#release-proposals" not in html  # no proposal yet: the step is to review that band
    assert 'href="/customers/?owner=mine&amp;stage=1"' in html
    ReleaseProposal.objects.create(customer=crowd[0], owner=org.rep, reason="no_rise", contacts=6)
    html = _balance(client.get("/agenda/").content.decode())
    assert 'href="#release-proposals"' in html and "踢出建议：1 位客户" in html


def test_a_balanced_list_offers_no_step(client, org, settings):
    settings.YIXIANG = {**settings.YIXIANG, "BALANCE_TARGETS": {"0": 1, "1-2": 1, "3-4": 1}}
    for stage in (0, 1, 3):
        # judged: a stage-0 customer counts in the balance once an effective contact judged it
        set_state(org.customer(org.rep, name=f"阶段{stage}"), stage=stage, last_contact_at=timezone.now())
    assert "balance-next" not in _balance(_login(client, org.rep).get("/agenda/").content.decode())

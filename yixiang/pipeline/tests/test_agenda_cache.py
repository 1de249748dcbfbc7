"""The agenda API's cache: every kind of write that changes a rep's agenda changes the next response
(the triggers of migration 0005 move the rep's counter), a cached body is byte for byte what a fresh
computation gives, and a rep never gets another rep's body.

Committed transactions (transactional_db): inside a test transaction the API does not cache."""

from __future__ import annotations

import datetime as dt
import importlib
import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from yixiang.accounts.models import Team
from yixiang.aftercare import services as care_services
from yixiang.aftercare import services_contracts
from yixiang.aftercare.models import CareTask
from yixiang.customers import services as customer_services
from yixiang.customers.models import Customer
from yixiang.pipeline import pool, services
from yixiang.pipeline.api import agenda_cache
from yixiang.pipeline.models import AgendaVersion, CustomerProfile, ReleaseProposal, VisitPlan
from yixiang.pipeline.tests.factories import set_state
from yixiang.testing import ApiClient, make_org

pytestmark = pytest.mark.django_db(transaction=True)
m0005 = importlib.import_module("yixiang.pipeline.migrations.0005_agenda_version")


class World:
    def __init__(self) -> None:
        self.today = timezone.localdate()
        self.org = org = make_org()
        self.due = set_state(org.customer(org.rep, name="到期甲"), next_due_on=self.today - dt.timedelta(days=1))
        self.later = set_state(org.customer(org.rep, name="未到乙"), next_due_on=self.today + dt.timedelta(days=5))
        self.late = set_state(
            org.customer(org.rep, name="逾期丙", phone="13800000003"), next_due_on=self.today - dt.timedelta(days=40)
        )
        self.pool = org.customer(None, name="公海丁", phone="13800000004")
        self.mate = set_state(org.customer(org.teammate, name="同事戊"), next_due_on=self.today)
        self.task = CareTask.objects.create(
            kind="birthday", customer=self.due, rep=org.rep, due_on=self.today, title="生日", source_key="k1"
        )
        self.api = ApiClient(org.rep)
        self.mate_api = ApiClient(org.teammate)

    def fetch(self, api: ApiClient | None = None) -> bytes:
        resp = (api or self.api).get("/api/v1/agenda")
        assert resp.status_code == 200, resp.content[:300]
        return resp.content

    def fresh(self, api: ApiClient | None = None) -> bytes:
        agenda_cache.clear()
        return self.fetch(api)


def text(body: bytes) -> str:
    return json.dumps(json.loads(body), ensure_ascii=False)


@pytest.fixture
def world():
    agenda_cache.clear()
    yield World()
    agenda_cache.clear()


def _visit_at(w: World) -> dt.datetime:
    return timezone.localtime().replace(hour=23, minute=30, second=0, microsecond=0)


WRITES = {
    "follow-up logged": lambda w: services.followup_log(
        actor=w.org.rep, customer=w.due, effective=False, summary="没接"
    ),
    "next contact date": lambda w: services.followup_log(
        actor=w.org.rep, customer=w.due, summary="聊了", next_contact_on=w.today + dt.timedelta(days=3)
    ),
    "claim": lambda w: pool.claim_from_pool(actor=w.org.rep, customer=w.pool),
    "release": lambda w: pool.customer_release(actor=w.org.rep, customer=w.due, reason="no_rise"),
    "sign": lambda w: services_contracts.customer_sign(actor=w.org.rep, customer=w.due, amount="1000"),
    "recycle": lambda w: pool.recycle_run(),
    "reassign": lambda w: pool.customer_hand_over(actor=w.org.lead1, customer=w.due, to_user=w.org.teammate),
    "edit name": lambda w: customer_services.customer_update(actor=w.org.rep, customer=w.due, data={"name": "改名"}),
    "delete": lambda w: customer_services.customer_soft_delete(actor=w.org.rep, customer=w.due),
    "visit planned": lambda w: services.visit_plan_create(
        actor=w.org.rep, customer=w.later, at=_visit_at(w), place="公司", purpose="面谈"
    ),
    "care task done": lambda w: care_services.care_task_done(actor=w.org.rep, task=w.task),
    "release proposal": lambda w: ReleaseProposal.objects.create(
        customer=w.due, owner=w.org.rep, reason="no_rise", contacts=7
    ),
    "first-contact deadline": lambda w: CustomerProfile.objects.create(
        customer=w.due, first_contact_due_at=timezone.now() + dt.timedelta(hours=3)
    ),
    "raw update()": lambda w: Customer.objects.filter(pk=w.later.pk).update(next_due_on=w.today),
    "raw SQL": lambda w: connection.cursor().execute(
        "UPDATE customers_customer SET stage = 3 WHERE id = %s", [w.due.pk]
    ),
}


@pytest.mark.parametrize("write", list(WRITES))
def test_write_changes_next_response(world, write):
    before = world.fetch()
    with CaptureQueriesContext(connection) as ctx:
        assert world.fetch() == before
    assert len(ctx.captured_queries) == 1  # a hit: the token (with the counters) only

    WRITES[write](world)
    after = world.fetch()
    assert after != before, "the write must show in the next response"
    assert after == world.fresh(), "the response must be what a fresh computation gives"


def test_restore_shows_again(world):
    customer_services.customer_soft_delete(actor=world.org.rep, customer=world.due)
    deleted = world.fetch()
    customer_services.customer_restore(actor=world.org.rep, customer=world.due)
    restored = world.fetch()
    assert restored != deleted and "到期甲" in text(restored)
    assert restored == world.fresh()


def test_rename_of_a_visited_customer_owned_by_another_rep(world):
    # The rep sees the teammate's customer's name on a planned visit; renaming it changes that agenda.
    VisitPlan.objects.create(customer=world.mate, rep=world.org.rep, at=_visit_at(world), place="P", purpose="看")
    before = world.fetch()
    Customer.objects.filter(pk=world.mate.pk).update(name="新名字")
    after = world.fetch()
    assert after != before and "新名字" in text(after)
    assert after == world.fresh()


def test_reps_never_share_bodies(world):
    mine, theirs = world.fetch(), world.fetch(world.mate_api)
    assert "到期甲" in text(mine) and "到期甲" not in text(theirs)
    assert "同事戊" in text(theirs) and "同事戊" not in text(mine)
    # Both cached now: each still gets their own.
    assert world.fetch() == mine and world.fetch(world.mate_api) == theirs
    assert world.fresh(world.mate_api) == theirs


def test_reassign_changes_both_agendas(world):
    mine, theirs = world.fetch(), world.fetch(world.mate_api)
    pool.customer_hand_over(actor=world.org.lead1, customer=world.due, to_user=world.org.teammate)
    assert world.fetch() != mine and world.fetch(world.mate_api) != theirs
    assert "到期甲" in text(world.fetch(world.mate_api))


def test_other_days_and_languages_are_other_entries(world):
    today = world.fetch()
    tomorrow = world.api.get("/api/v1/agenda", date=(world.today + dt.timedelta(days=5)).isoformat()).content
    assert tomorrow != today and "未到乙" in text(tomorrow)
    english = world.api.client.get("/api/v1/agenda", headers={**world.api.headers, "Accept-Language": "en"}).content
    assert english != today  # stage labels in English, not the cached Chinese body
    assert world.fetch() == today


def test_staff_moves_bump_the_global_counter(world):
    def glob() -> int | None:
        # The row may be missing after a test database flush: the first bump creates it.
        return AgendaVersion.objects.filter(rep_id=AgendaVersion.GLOBAL).values_list("version", flat=True).first()

    seen = [glob()]
    Team.objects.filter(pk=world.org.n1.pk).update(region=world.org.south)
    seen.append(glob())
    type(world.org.rep).objects.filter(pk=world.org.teammate.pk).update(team=world.org.n2)
    seen.append(glob())
    assert seen[1] is not None and seen[1] != seen[0] and seen[2] > seen[1]


def test_a_counter_put_back_never_returns_to_a_used_value(world):
    # A restored backup puts counters back; the next bump must not land on a value whose cached
    # body belongs to other data.
    rep = world.org.rep.pk

    def version() -> int:
        return AgendaVersion.objects.get(rep_id=rep).version

    old = version()
    Customer.objects.filter(pk=world.due.pk).update(stage=2)
    used = version()
    assert used > old
    AgendaVersion.objects.filter(rep_id=rep).update(version=old)
    Customer.objects.filter(pk=world.due.pk).update(stage=1)
    assert version() > used


def test_unrelated_writes_do_not_bump(world):
    v = AgendaVersion.objects.get(rep_id=world.org.rep.pk).version
    Customer.objects.filter(pk=world.due.pk).update(notes="备注", address="某路")
    assert AgendaVersion.objects.get(rep_id=world.org.rep.pk).version == v


def test_every_trigger_exists(world):
    # A SQLite table rebuild by a later migration drops triggers silently.
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            cur.execute("SELECT tgname FROM pg_trigger WHERE tgname LIKE 'agv_%%'")
        else:
            cur.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'agv_%'")
        names = {r[0] for r in cur.fetchall()}
    assert names == set(m0005.TRIGGER_NAMES)


def test_body_cache_is_bounded_by_bytes():
    from yixiang.pipeline.api import _BodyCache

    cache = _BodyCache(max_bytes=800)
    for i in range(10):
        cache.put(("k", i), bytes(100))
    assert cache.size <= 800 and cache.get(("k", 0)) is None and cache.get(("k", 9)) == bytes(100)
    cache.get(("k", 3))  # used: kept over older ones
    cache.put(("k", 10), bytes(100))
    assert cache.get(("k", 3)) is not None and cache.get(("k", 2)) is None and cache.get(("k", 4)) is not None
    cache.put(("big",), bytes(101))  # over an eighth: not kept
    assert cache.get(("big",)) is None

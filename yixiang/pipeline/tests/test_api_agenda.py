"""GET /api/v1/agenda renders its rows without a pydantic round trip (for speed): the body must be
exactly what the declared schema (AgendaOut) would have produced, on every list it carries."""

import datetime as dt
import json

import pytest
from django.utils import timezone
from ninja.renderers import JSONRenderer

from yixiang.aftercare.models import CareTask
from yixiang.pipeline import selectors, services
from yixiang.pipeline.api import AgendaOut
from yixiang.pipeline.models import CustomerProfile, ReleaseProposal
from yixiang.pipeline.tests.factories import days_ago, set_state

pytestmark = pytest.mark.django_db


def schema_body(user, day: dt.date) -> dict:
    """The agenda as Ninja renders a schema-validated response."""
    a = selectors.agenda(user=user, day=day)
    data = {"date": day, "items": a.items, "visits": a.visits, "care": a.care, "balance": a.balance}
    data["proposals"] = a.proposals
    dumped = AgendaOut.model_validate(data).model_dump()
    return json.loads(JSONRenderer().render(None, dumped, response_status=200))


def test_the_agenda_body_is_what_its_schema_gives_with_every_list_filled(org, api_as):
    today = timezone.localdate()
    hot = set_state(
        org.customer(org.rep, name="三阶段", phone="13800138000"),
        stage=3,
        next_due_on=today - dt.timedelta(days=2),
        held_since=days_ago(179),
        last_contact_at=days_ago(5),
    )
    services.followup_log(actor=org.rep, customer=hot, effective=False, summary="没接")
    set_state(hot, next_due_on=today - dt.timedelta(days=29))  # about to be recycled: a warning
    new = org.customer(org.rep, name="新分配")
    CustomerProfile.objects.update_or_create(customer=new, defaults={"first_contact_due_at": days_ago(-1)})
    set_state(org.customer(org.rep, name="E类"), stage=5, next_due_on=today)
    services.visit_plan_create(
        actor=org.rep, customer=hot, at=timezone.localtime().replace(hour=23, minute=0), place="公司", purpose="面谈"
    )
    CareTask.objects.create(
        kind="birthday", customer=hot, rep=org.rep, due_on=today, title="生日", suggestion="祝福", source_key="t-1"
    )
    ReleaseProposal.objects.create(customer=new, owner=org.rep, reason="no_rise", contacts=7)

    body = api_as(org.rep).get("/api/v1/agenda", date=today.isoformat()).json()

    assert all(body[k] for k in ("items", "visits", "care", "balance", "proposals"))
    assert any(i["recycle_on"] for i in body["items"]) and any(i["first_contact_due_at"] for i in body["items"])
    assert any(i["last_attempt_at"] for i in body["items"])
    assert body == schema_body(org.rep, today)
    assert "phone" not in body["items"][0]  # only the schema's fields

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
    notes = selectors.last_notes(i.customer_id for i in a.items)
    for i in a.items:
        i.last_note, i.guide = notes.get(i.customer_id, ""), None
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


def test_each_item_carries_its_last_note_and_on_request_its_stage_guide(org, api_as):
    """What the agenda card shows during the call, for a phone app: the last note's first line, the
    judging questions of the stage and the tips towards the next (the texts GET /method serves)."""
    today = timezone.localdate()
    c = set_state(org.customer(org.rep, name="二阶段"), stage=2, next_due_on=today)
    services.followup_log(actor=org.rep, customer=c, effective=False, summary="他问了价格\n第二行不显示")
    set_state(c, next_due_on=today)
    api = api_as(org.rep)
    item = api.get("/api/v1/agenda").json()["items"][0]
    assert (item["last_note"], item["guide"]) == ("他问了价格", None)
    item = api.get("/api/v1/agenda", include="guide").json()["items"][0]
    method = {s["stage"]: s for s in api.get("/api/v1/method").json()["stages"]}
    assert item["guide"]["questions"] == method[2]["questions"] and item["guide"]["questions"]
    assert item["guide"]["next_stage"] == 3
    assert item["guide"]["lift_tips"] == method[3]["lift_tips"] and item["guide"]["lift_tips"]
    assert api.get("/api/v1/agenda", include="everything").status_code == 422

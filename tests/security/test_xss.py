"""Every text a user can type comes back escaped on every page that shows it."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.security.world import NON_ID_PARAMS, fill, web_patterns
from yixiang.customers import services as customer_services
from yixiang.customers.services import EDITABLE_FIELDS

pytestmark = pytest.mark.django_db

PAYLOADS = ['<script>alert("x1")</script>', '"><img src=x onerror=alert(2)>', "<svg/onload=alert(3)>"]
RAW_MARKERS = ['<script>alert("x1")', "<img src=x onerror", "<svg/onload"]

TEXT_FIELDS = [
    "name", "wechat", "qq", "occupation", "income", "family_situation", "personality", "hobbies", "special_days",
    "financial_situation", "province", "city", "address", "company_name", "industry", "company_size",
    "decision_maker", "key_people", "notes",
]  # fmt: skip


def _payload(i: int) -> str:
    return PAYLOADS[i % len(PAYLOADS)]


@pytest.fixture
def hostile(org):
    assert set(TEXT_FIELDS) <= set(EDITABLE_FIELDS)
    from yixiang.customers.models import Customer

    # Cut each payload to the column's length: PostgreSQL enforces varchar limits, SQLite does not.
    data = {f: _payload(i)[: Customer._meta.get_field(f).max_length or None] for i, f in enumerate(TEXT_FIELDS)}
    customer = customer_services.customer_create(
        actor=org.rep, data=data, owner=org.rep, tags=[PAYLOADS[0][:50], PAYLOADS[2]],
        contacts=[{"name": PAYLOADS[1], "title": PAYLOADS[0], "notes": PAYLOADS[2]}],
    )  # fmt: skip
    try:
        from yixiang.pipeline.services import followup_log
    except ImportError:  # pragma: no cover - the pipeline app always exists now
        followup_log = None
    if followup_log:
        followup_log(actor=org.rep, customer=customer, stage=1, summary=PAYLOADS[0] + PAYLOADS[1])
    return customer


def test_every_page_escapes_user_text(org, hostile):
    client = Client()
    client.force_login(org.rep)
    pages_seen = 0
    problems = []
    for route, params in web_patterns():
        if any(p not in NON_ID_PARAMS for p in params) and not all(p in {"pk", "customer_id", "id"} for p in params):
            continue  # routes about other kinds of object: covered by their apps' own XSS checks
        url = fill(route, dict.fromkeys(params, str(hostile.pk)))
        if url.startswith(("/logout/", "/login/", "/calendar/")):
            continue
        resp = client.get(url, {"q": PAYLOADS[0]})
        if resp.status_code != 200 or "text/html" not in resp.get("Content-Type", ""):
            continue
        pages_seen += 1
        html = resp.content.decode()
        for marker in RAW_MARKERS:
            if marker in html:
                problems.append(f"{url} shows raw {marker!r}")
    assert pages_seen >= 3
    assert not problems, "\n".join(problems)


def test_customer_page_shows_the_text_escaped(org, hostile):
    client = Client()
    client.force_login(org.rep)
    html = client.get(f"/customers/{hostile.pk}/").content.decode()
    assert "&lt;script&gt;alert(&quot;x1&quot;)&lt;/script&gt;" in html

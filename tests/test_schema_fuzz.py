"""schemathesis against /api/v1/openapi.json, in process through the WSGI app, with a real Bearer
token of a rep who has data: over every operation, valid and invalid input, no 5xx and no response
that breaks the schema.

Each operation runs in its own test (and so its own rolled-back transaction); the path ids are
drawn half from the generator, half from real rows (the rep's own customers, a teammate's, the
pool, another region's), so the handlers behind the 404 are reached too. Bounded: a few examples
per operation, derandomised, so the run is short and repeatable."""

from __future__ import annotations

import importlib
import inspect
import os
import pkgutil
from decimal import Decimal

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.utils import timezone
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from ninja import Schema
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from yixiang.accounts.services import api_token_create
from yixiang.aftercare import services_campaigns as aftercare_campaigns
from yixiang.aftercare import services_contracts as aftercare_contracts
from yixiang.pipeline import services as pipeline_services

# `make test` runs a short pass; `make fuzz` a long one (more examples, same fixed seed).
MAX_EXAMPLES = int(os.environ.get("YX_FUZZ_EXAMPLES", "15"))
# 8 sequences in make test: on PostgreSQL longer runs trip Hypothesis's "inconsistent data generation"
# (the workflow's preconditions read database state that earlier sequences changed); make fuzz runs more.
STATEFUL_EXAMPLES = int(os.environ.get("YX_FUZZ_STATEFUL_EXAMPLES", "8"))
SEED = 4242
# No 5xx, no status the schema does not document, no answer outside its schema (issue 12).
CHECKS = [not_a_server_error, status_code_conformance, response_schema_conformance, content_type_conformance]


def _world(org) -> dict[str, list]:
    """A rep with customers at several stages, a signed one with a contract, a pool customer, a
    campaign draft; a teammate's and an outsider's customer to be refused."""
    rep = org.rep
    mine = [org.customer(rep, f"客户{i}", phone=f"1380000{i:04d}", email=f"c{i}@example.com") for i in range(4)]
    for stage, c in zip((0, 2, 3), mine, strict=False):
        pipeline_services.followup_log(actor=rep, customer=c, stage=stage, summary="客户愿意听介绍")
    signed = mine[3]
    aftercare_contracts.customer_sign(actor=rep, customer=signed, amount=Decimal("30000"), contract_name="官网建设")
    pool = org.customer(None, "公海客户", phone="13900000001")
    other = org.customer(org.teammate, "同事的客户")
    far = org.customer(org.outsider, "南方客户")
    campaign = aftercare_campaigns.campaign_create(actor=rep, name="中秋问候", template="{name}您好，中秋快乐！")
    today = timezone.localdate()
    return {
        "customer_id": [c.pk for c in (*mine, pool, other, far)],
        "campaign_id": [campaign.pk],
        "month": [today.strftime("%Y-%m"), "2011-04", "2011-13"],
        "section": ["funnel", "movement", "activity", "aftercare", "incentives"],
    }


# Real ids for the path parameters of the test being run (filled by the `fuzz_token` fixture).
REAL: dict[str, list] = {}

schema = schemathesis.openapi.from_wsgi(
    "/api/v1/openapi.json",
    get_wsgi_application(),
    config=schemathesis.Config.from_dict(
        {"seed": SEED, "generation": {"max-examples": MAX_EXAMPLES, "deterministic": True, "mode": "all"}}
    ),
)


@schema.hook
def flatmap_path_parameters(context, path_parameters):
    if not isinstance(path_parameters, dict):
        return st.just(path_parameters)
    choices = {
        name: st.one_of(st.just(value), st.sampled_from(REAL[name]))
        for name, value in path_parameters.items()
        if REAL.get(name)
    }
    if not choices:
        return st.just(path_parameters)
    return st.fixed_dictionaries(choices).map(lambda picked: {**path_parameters, **picked})


@pytest.fixture
def fuzz_token(org):
    REAL.clear()
    REAL.update(_world(org))
    # As Django's test client does: the request must not close the test's connection (and its
    # open transaction) when it finishes.
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    try:
        yield api_token_create(user=org.rep, name="fuzz")
    finally:
        for signal in (request_started, request_finished):
            signal.connect(close_old_connections)
        REAL.clear()


@schema.parametrize()
@settings(deadline=None, suppress_health_check=list(HealthCheck), max_examples=MAX_EXAMPLES, derandomize=True)
def test_api_never_fails_on_any_input(case, fuzz_token):
    case.call_and_validate(headers={"Authorization": f"Bearer {fuzz_token}"}, checks=CHECKS)


# The webhook routes answer a rep 403 before anything else: fuzz them as the administrator too, with
# a real endpoint id (on-commit sending never runs inside the test's transaction: nothing leaves).
webhook_schema = schema.include(path_regex=r"^/api/v1/webhooks")


@pytest.fixture
def admin_fuzz_token(org):
    from yixiang.accounts import webhooks

    endpoint = webhooks.endpoint_create(actor=org.admin, url="http://127.0.0.1:9/hook", events=["followup.logged"])
    webhooks.emit("followup.logged", {"n": 1})
    REAL.clear()
    REAL["endpoint_id"] = [endpoint.pk]
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    try:
        yield api_token_create(user=org.admin, name="fuzz")
    finally:
        for signal in (request_started, request_finished):
            signal.connect(close_old_connections)
        REAL.clear()


@webhook_schema.parametrize()
@settings(deadline=None, suppress_health_check=list(HealthCheck), max_examples=MAX_EXAMPLES, derandomize=True)
def test_webhook_routes_never_fail_for_an_administrator(case, admin_fuzz_token):
    case.call_and_validate(headers={"Authorization": f"Bearer {admin_fuzz_token}"}, checks=CHECKS)


def test_api_stateful_workflows(fuzz_token):
    """Sequences of calls along the links schemathesis infers (a customer listed → read, patched,
    followed up, claimed, signed…): still no 5xx and no answer outside the schema."""
    headers = {"Authorization": f"Bearer {fuzz_token}"}

    class Workflow(schema.as_state_machine()):
        def get_call_kwargs(self, case):
            return {"headers": headers}

        def validate_response(self, response, case, additional_checks=None, **kwargs):
            case.validate_response(response, checks=CHECKS, headers=headers)

    Workflow.run(
        settings=settings(
            max_examples=STATEFUL_EXAMPLES,
            stateful_step_count=6,
            deadline=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
        )
    )


def test_schema_names_are_unique_across_apps():
    """Ninja names OpenAPI components after the class: two different schemas of one name make one
    describe the other's responses (the agenda's bands were described by the reports' bands)."""
    import yixiang

    seen: dict[str, tuple[str, dict]] = {}
    clashes = []
    for info in pkgutil.walk_packages(yixiang.__path__, "yixiang."):
        leaf = info.name.rsplit(".", 1)[-1]
        if leaf != "api" and not leaf.startswith("api_"):
            continue
        module = importlib.import_module(info.name)
        for name, cls in vars(module).items():
            if not (inspect.isclass(cls) and issubclass(cls, Schema) and cls.__module__ == module.__name__):
                continue
            shape = cls.model_json_schema()
            if name in seen and seen[name][1] != shape:
                clashes.append(f"{name}: {seen[name][0]} vs {module.__name__}")
            seen.setdefault(name, (module.__name__, shape))
    assert len(seen) > 50
    assert not clashes


def test_every_operation_documents_its_errors_and_formats():
    """The schema is exact without the fuzzer: each operation lists the 4xx it can answer with the
    shared error body, months carry their YYYY-MM pattern and the agenda date is a date."""
    from yixiang.api import api

    doc = api.get_openapi_schema()
    assert doc["components"]["schemas"]["ApiError"]["required"] == ["detail", "code"]
    count = 0
    for path, item in doc["paths"].items():
        for method, op in item.items():
            count += 1
            documented = {int(s) for s in op["responses"]}
            assert {400, 403} <= documented, (method, path)
            if op.get("security"):
                assert 401 in documented, (method, path)
            if op.get("parameters") or "requestBody" in op:
                assert {404, 422} <= documented, (method, path)
            if method in ("post", "patch", "put", "delete"):
                assert 409 in documented, (method, path)
    assert count > 40
    month = doc["paths"]["/api/v1/incentives/months/{month}"]["get"]["parameters"][0]["schema"]
    assert month["pattern"] == "^[0-9]{4}-(0[1-9]|1[0-2])$"
    kind = doc["components"]["schemas"]["CustomerPatchIn"]["properties"]["kind"]
    assert "null" not in str(kind)

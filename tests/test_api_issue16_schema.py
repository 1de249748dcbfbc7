"""The issue-16 routes are in the OpenAPI schema, each with its error replies documented."""

from __future__ import annotations

import pytest

NEW_OPERATIONS = [
    ("get", "/api/v1/org/regions"), ("post", "/api/v1/org/regions"),
    ("get", "/api/v1/org/regions/{region_id}"), ("patch", "/api/v1/org/regions/{region_id}"),
    ("get", "/api/v1/org/teams"), ("post", "/api/v1/org/teams"),
    ("get", "/api/v1/org/teams/{team_id}"), ("patch", "/api/v1/org/teams/{team_id}"),
    ("get", "/api/v1/org/staff"), ("post", "/api/v1/org/staff"),
    ("get", "/api/v1/org/staff/{user_id}"), ("patch", "/api/v1/org/staff/{user_id}"),
    ("post", "/api/v1/org/staff/{user_id}/deactivate"),
    ("get", "/api/v1/customers/{customer_id}/payments"), ("post", "/api/v1/customers/{customer_id}/payments"),
    ("get", "/api/v1/customers/{customer_id}/shipments"), ("post", "/api/v1/customers/{customer_id}/shipments"),
    ("post", "/api/v1/contracts/{contract_id}/payouts"), ("post", "/api/v1/payouts/{payout_id}/paid"),
    ("patch", "/api/v1/payout-incidents/{incident_id}"),
    ("get", "/api/v1/customers/{customer_id}/history/stages"),
    ("get", "/api/v1/customers/{customer_id}/history/owners"),
    ("get", "/api/v1/customers/{customer_id}/history/changes"),
    ("get", "/api/v1/care/calendar"), ("post", "/api/v1/care/{task_id}/done"),
    ("post", "/api/v1/care/{task_id}/reopen"),
    ("get", "/api/v1/incentives/schemes"), ("post", "/api/v1/incentives/schemes"),
    ("put", "/api/v1/incentives/schemes/{scheme_id}"),
    ("post", "/api/v1/imports"), ("get", "/api/v1/imports"), ("get", "/api/v1/imports/{job_id}"),
    ("get", "/api/v1/imports/{job_id}/errors"), ("post", "/api/v1/imports/{job_id}/run"),
    ("post", "/api/v1/customers/{customer_id}/gifts"), ("post", "/api/v1/customers/{customer_id}/life-events"),
    ("patch", "/api/v1/customers/{customer_id}/care"), ("post", "/api/v1/customers/{customer_id}/referral-asks"),
    ("put", "/api/v1/customers/{customer_id}/profile"), ("post", "/api/v1/customers/{customer_id}/keep"),
    ("get", "/api/v1/need-categories"), ("post", "/api/v1/need-categories"),
    ("put", "/api/v1/need-categories/{category_id}"),
    ("get", "/api/v1/regional-events"), ("post", "/api/v1/regional-events"),
    ("get", "/api/v1/campaigns/{campaign_id}/messages"), ("post", "/api/v1/campaign-messages/{message_id}/reply"),
    ("post", "/api/v1/campaign-messages/{message_id}/resend"),
    ("get", "/api/v1/webhooks"), ("post", "/api/v1/webhooks"), ("get", "/api/v1/webhooks/{endpoint_id}"),
    ("patch", "/api/v1/webhooks/{endpoint_id}"), ("delete", "/api/v1/webhooks/{endpoint_id}"),
    ("get", "/api/v1/webhooks/{endpoint_id}/deliveries"), ("post", "/api/v1/webhooks/{endpoint_id}/test"),
]  # fmt: skip


@pytest.fixture(scope="module")
def spec():
    from yixiang.api import api

    return api.get_openapi_schema()


@pytest.mark.parametrize(("method", "path"), NEW_OPERATIONS, ids=lambda x: x)
def test_operation_listed_with_its_errors(spec, method, path):
    operation = spec["paths"][path][method]
    assert operation.get("summary") or operation.get("description")
    codes = {str(c) for c in operation["responses"]}
    assert codes & {"200", "201", "202", "204"}  # 202: queued (a webhook test event)
    # Anything with a path id can be out of scope; anything that writes can be refused.
    if "{" in path and not path.startswith("/api/v1/incentives/schemes") or method != "get":
        assert {"404"} <= codes or {"403"} <= codes, codes
    if method != "get":
        assert codes & {"400", "422"}, codes


def test_import_upload_is_multipart(spec):
    body = spec["paths"]["/api/v1/imports"]["post"]["requestBody"]["content"]
    schema = body["multipart/form-data"]["schema"]
    assert "file" in schema["properties"] and "dry_run" in schema["properties"]


def test_every_route_of_the_table_exists(spec):
    """docs/API.md maps UI actions to routes: each route it names is in the schema."""
    import re
    from pathlib import Path

    doc = (Path(__file__).resolve().parent.parent / "docs" / "API.md").read_text(encoding="utf-8")
    named = set(re.findall(r"`(GET|POST|PATCH|PUT|DELETE) (/[^`?]*)", doc))
    assert len(named) > 40
    listed = {(m.upper(), p.removeprefix("/api/v1")) for p, ops in spec["paths"].items() for m in ops}
    missing = sorted(f"{m} {p}" for m, p in named if (m, p) not in listed)
    assert not missing

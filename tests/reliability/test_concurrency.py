"""Many clients at once against the production server (gunicorn, two worker processes with
threads) over loopback HTTP, on the test database (SQLite WAL or PostgreSQL):

* many reps claim one pool customer at the same moment: exactly one wins, the others get 409;
* several people edit one customer with the version they read: one wins, the others get 409
  (no silent lost update); edits of different fields without a version all land;
* several people log follow-ups on one customer at once: every one is recorded, and the stage
  history, version and next-due date agree with the records."""

from __future__ import annotations

import datetime as dt
import json
import socket
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.utils import timezone

from yixiang.accounts.models import Role
from yixiang.accounts.services import api_token_create
from yixiang.customers.models import Customer, CustomerChange
from yixiang.pipeline import rules as pipeline_rules
from yixiang.pipeline import services as pipeline_services
from yixiang.pipeline.conf import conf as pipeline_conf
from yixiang.pipeline.models import FollowUp, OwnerChange, StageChange
from yixiang.pipeline.selectors import due_calendar
from yixiang.testing import make_org, make_user

from .servers import call, start_gunicorn, stop, subprocess_env

CLIENTS = 8


@pytest.fixture
def server(transactional_db, tmp_path):
    srv = start_gunicorn(subprocess_env(tmp_path / "data"), workers=2, threads=4)
    yield srv
    stop(srv.proc)


def all_at_once(requests: list) -> list:
    """Run the callables together: each thread waits at a barrier, then sends its request."""
    barrier = threading.Barrier(len(requests))

    def run(fn):
        barrier.wait(timeout=30)
        return fn()

    with ThreadPoolExecutor(max_workers=len(requests)) as pool:
        return list(pool.map(run, requests))


def test_one_pool_customer_claimed_by_many_reps_has_one_winner(server):
    org = make_org()
    reps = [org.rep, org.teammate, org.other_team_rep] + [
        make_user(f"claimer{i}", Role.REP, team=org.n1) for i in range(CLIENTS - 3)
    ]
    tokens = {rep.pk: api_token_create(user=rep, name="race") for rep in reps}
    rounds, raced = 4, 0
    for n in range(rounds):
        customer = org.customer(None, f"公海{n}", phone=f"1390000{n:04d}")
        path = f"/api/v1/customers/{customer.pk}/claim"
        replies = all_at_once([lambda t=tokens[r.pk], p=path: call(server.url, "POST", p, token=t) for r in reps])
        statuses = Counter(r.status for r in replies)
        # A loser that asks after the winner's commit no longer sees the customer (404, as for any
        # customer outside its scope); one that raced it gets 409 "claimed first".
        assert statuses[200] == 1, [(r.status, r.body) for r in replies]
        assert statuses[409] + statuses[404] == len(reps) - 1, statuses
        winner = next(rep for rep, r in zip(reps, replies, strict=True) if r.status == 200)
        assert all(r.body["code"] == "already_claimed" and r.body["detail"] for r in replies if r.status == 409)
        raced += statuses[409]
        customer.refresh_from_db()
        assert customer.owner_id == winner.pk
        claims = OwnerChange.objects.filter(customer=customer)
        assert list(claims.values_list("to_owner_id", "reason")) == [(winner.pk, OwnerChange.Reason.CLAIM)]
        assert customer.held_since is not None and customer.next_due_on is not None
    assert raced, "no claim lost inside the race: the clients were not simultaneous"


def test_one_rep_double_clicking_claim_gets_it_once(server):
    org = make_org()
    token = api_token_create(user=org.rep, name="tab")
    customer = org.customer(None, "公海客户")
    path = f"/api/v1/customers/{customer.pk}/claim"
    replies = all_at_once([lambda: call(server.url, "POST", path, token=token) for _ in range(4)])
    assert sorted(r.status for r in replies) == [200, 409, 409, 409], [r.body for r in replies]
    assert OwnerChange.objects.filter(customer=customer, reason=OwnerChange.Reason.CLAIM).count() == 1
    assert Customer.objects.get(pk=customer.pk).owner_id == org.rep.pk


def _editors(org) -> list[tuple[str, str]]:
    """(label, token): the owner, the team lead, the director and the admin, two clients each."""
    people = [org.rep, org.lead1, org.director, org.admin]
    return [(f"{p.username}-{i}", api_token_create(user=p, name=f"edit{i}")) for p in people for i in range(2)]


def test_simultaneous_edits_with_the_read_version_never_lose_an_update_silently(server):
    org = make_org()
    customer = org.customer(org.rep, "王老板", city="上海")
    editors = _editors(org)
    base = f"/api/v1/customers/{customer.pk}"
    for n in range(3):
        version = call(server.url, "GET", base, token=editors[0][1]).body["version"]
        # Values new in each round: a PATCH that changes nothing keeps the version (and wins).
        replies = all_at_once(
            [
                lambda value=f"{label}/{n}", token=token, version=version: call(
                    server.url, "PATCH", base, token=token, data={"version": version, "occupation": value}
                )
                for label, token in editors
            ]
        )
        statuses = Counter(r.status for r in replies)
        assert statuses == {200: 1, 409: len(editors) - 1}, [(r.status, r.body) for r in replies]
        assert all(r.body["code"] == "stale_version" for r in replies if r.status == 409)
        won = next(f"{label}/{n}" for (label, _), r in zip(editors, replies, strict=True) if r.status == 200)
        customer.refresh_from_db()
        assert customer.occupation == won
        assert customer.version == version + 1
    updates = CustomerChange.objects.filter(customer=customer, action=CustomerChange.Action.UPDATE)
    assert updates.count() == 3


def test_simultaneous_edits_of_different_fields_all_land(server):
    org = make_org()
    customer = org.customer(org.rep, "赵总")
    editors = _editors(org)
    fields = ["occupation", "hobbies", "personality", "income", "city", "province", "industry", "address"]
    base = f"/api/v1/customers/{customer.pk}"
    before = Customer.objects.get(pk=customer.pk).version
    replies = all_at_once(
        [
            lambda field=field, token=token: call(server.url, "PATCH", base, token=token, data={field: f"新{field}"})
            for field, (_, token) in zip(fields, editors, strict=True)
        ]
    )
    assert [r.status for r in replies] == [200] * len(fields), [r.body for r in replies if r.status != 200]
    row = Customer.objects.get(pk=customer.pk)
    assert {f: getattr(row, f) for f in fields} == {f: f"新{f}" for f in fields}
    assert row.version == before + len(fields)


def test_simultaneous_follow_ups_are_all_recorded_and_the_stage_history_chains(server):
    org = make_org()
    customer = org.customer(org.rep, "钱经理")
    editors = _editors(org)
    version0 = Customer.objects.get(pk=customer.pk).version
    now = timezone.localtime()
    path = f"/api/v1/customers/{customer.pk}/follow-ups"
    payloads = [
        {
            "stage": i % 5,
            "at": (now - dt.timedelta(hours=i + 1)).isoformat(),
            "summary": f"第{i}次电话",
            "confirm_stage": True,  # whichever order they land in, a rise has no evidence
            "effective": i != 3,
            "next_contact_on": (now.date() + dt.timedelta(days=2 + i)).isoformat(),
        }
        for i in range(len(editors))
    ]
    replies = all_at_once(
        [
            lambda data=data, token=token: call(server.url, "POST", path, token=token, data=data)
            for data, (_, token) in zip(payloads, editors, strict=True)
        ]
    )
    assert [r.status for r in replies] == [201] * len(editors), [r.body for r in replies if r.status != 201]

    rows = list(FollowUp.objects.filter(customer=customer).order_by("id"))
    assert sorted(f.summary for f in rows) == sorted(p["summary"] for p in payloads)
    # Written one after another under the row lock: each record starts from the previous one's stage.
    assert rows[0].stage_before == 0
    for prev, cur in zip(rows, rows[1:], strict=False):
        assert cur.stage_before == prev.stage_after
    changes = StageChange.objects.filter(customer=customer, follow_up__isnull=False).order_by("id")
    assert [(c.from_stage, c.to_stage) for c in changes] == [
        (f.stage_before, f.stage_after) for f in rows if f.stage_before != f.stage_after
    ]
    final = Customer.objects.get(pk=customer.pk)
    assert final.stage == rows[-1].stage_after
    assert final.version == version0 + len(rows)
    assert final.last_contact_at == max(f.at for f in rows if f.effective)
    newest = max(rows, key=lambda f: (f.at, f.id))
    assert final.next_due_on == pipeline_rules.next_due_on(
        stage=final.stage,
        last_effective_contact=timezone.localtime(final.last_contact_at).date(),
        planned_next=newest.next_contact_on,
        today=timezone.localdate(),
        cadence=pipeline_conf("CADENCE_DAYS"),
        calendar=due_calendar(timezone.localtime(final.last_contact_at).date()),
        shift_holidays=pipeline_conf("HOLIDAY_SHIFT"),
        slower_shift=pipeline_conf("HOLIDAY_SHIFT_SLOWER"),
    )


def test_follow_ups_and_a_release_racing_leave_a_consistent_owner(server):
    """Follow-ups racing the owner's release: each follow-up either lands before the release or is
    refused after it (the customer is then in the pool); never recorded on a pool customer."""
    org = make_org()
    customer = org.customer(org.rep, "孙女士")
    pipeline_services.followup_log(actor=org.rep, customer=customer, stage=1)
    editors = _editors(org)
    path = f"/api/v1/customers/{customer.pk}"
    jobs = [
        lambda token=token, i=i: call(
            server.url, "POST", f"{path}/follow-ups", token=token, data={"summary": f"并发{i}"}
        )
        for i, (_, token) in enumerate(editors[1:])
    ]
    jobs.insert(
        3,
        lambda: call(server.url, "POST", f"{path}/release", token=editors[0][1], data={"reason": "no_rise"}),
    )
    replies = all_at_once(jobs)
    release = replies[3]
    assert release.status == 200, release.body
    follow_ups = replies[:3] + replies[4:]
    # Leads, the director and the admin still see the pool customer, but may not log on it.
    assert {r.status for r in follow_ups} <= {201, 404, 409}
    released = OwnerChange.objects.get(customer=customer, reason=OwnerChange.Reason.RELEASE)
    recorded = FollowUp.objects.filter(customer=customer, summary__startswith="并发")
    assert recorded.count() == sum(r.status == 201 for r in follow_ups)
    assert released.from_owner_id == org.rep.pk and released.to_owner_id is None
    final = Customer.objects.get(pk=customer.pk)
    assert final.owner_id is None and final.next_due_on is None and final.held_since is None


def raw_post(base: str, path: str, token: str, body: bytes) -> tuple[int, dict]:
    """POST over a plain socket. The server answers an over-limit body before reading it and
    closes: sending the rest then fails (as any client sees it); the answer is read all the same."""
    host, port = base.removeprefix("http://").split(":")
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    ).encode()
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        try:
            sock.sendall(head + body)
        except (BrokenPipeError, ConnectionResetError):
            pass
        chunks = []
        try:
            while chunk := sock.recv(65536):
                chunks.append(chunk)
        except ConnectionResetError:
            pass
    raw = b"".join(chunks)
    status = int(raw.split(b" ", 2)[1])
    payload = raw.split(b"\r\n\r\n", 1)[1]
    return status, json.loads(payload)


def test_over_limit_and_malformed_bodies_over_http_get_a_clear_4xx(server):
    """Through gunicorn as well: an over-limit body is a 413 JSON (not a dropped connection or a
    500), broken JSON a 400, and the workers keep serving."""
    from django.conf import settings

    org = make_org()
    customer = org.customer(org.rep, "周先生")
    token = api_token_create(user=org.rep, name="big")
    path = f"/api/v1/customers/{customer.pk}/follow-ups"
    big = json.dumps({"summary": "很" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE // 2)}).encode()
    replies = all_at_once([lambda: raw_post(server.url, path, token, big)] * 4)
    assert {(status, body["code"]) for status, body in replies} == {(413, "too_large")}
    assert all(body["detail"] for _, body in replies)
    status, body = raw_post(server.url, path, token, b'{"summary": "cut')
    assert (status, body["code"]) == (400, "malformed")
    assert not FollowUp.objects.filter(customer=customer).exists()
    ok = call(server.url, "POST", path, token=token, data={"summary": "好"})
    assert ok.status == 201

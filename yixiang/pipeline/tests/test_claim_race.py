"""Two reps claim the same pool customer at the same instant: exactly one wins.

Real threads, each with its own database connection, against the real test database
(SQLite or PostgreSQL), released together by a barrier."""

import threading

import pytest
from django.db import connection, connections, transaction

from yixiang.customers.models import Customer
from yixiang.errors import Conflict
from yixiang.pipeline import pool
from yixiang.pipeline.models import OwnerChange

pytestmark = pytest.mark.django_db(transaction=True)


def _race(customer_id, users):
    barrier = threading.Barrier(len(users))
    outcome = {}

    def attempt(user):
        try:
            c = Customer.objects.get(pk=customer_id)
            barrier.wait(timeout=10)
            pool.claim_from_pool(actor=user, customer=c)
            outcome[user.username] = "won"
        except Conflict as exc:
            outcome[user.username] = exc.code
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            outcome[user.username] = repr(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=attempt, args=(u,)) for u in users]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return outcome


@pytest.mark.parametrize("round_", range(5))
def test_exactly_one_of_two_simultaneous_claims_wins(org, round_):
    c = org.customer(None, name=f"抢客户{round_}")
    outcome = _race(c.pk, [org.rep, org.teammate])
    assert sorted(outcome.values()) == ["already_claimed", "won"], outcome
    c.refresh_from_db()
    winner = next(name for name, result in outcome.items() if result == "won")
    assert c.owner.username == winner
    assert list(OwnerChange.objects.filter(customer=c).values_list("reason", "to_owner__username")) == [
        ("claim", winner)
    ]


def test_four_reps_one_winner(org):
    c = org.customer(None, name="抢手客户")
    outcome = _race(c.pk, [org.rep, org.teammate, org.other_team_rep, org.outsider])
    assert sorted(outcome.values()) == ["already_claimed"] * 3 + ["won"], outcome
    assert OwnerChange.objects.filter(customer=c).count() == 1
    assert connection.vendor in ("sqlite", "postgresql")


def test_a_rep_taking_their_turn_does_not_block_another_reps_claim(org):
    """The soak test's claim 500 on PostgreSQL: rep A, inside a claim, holds A's user row; rep B
    claims a customer A once created. B's transaction re-checks the customer's foreign keys at
    commit (FOR KEY SHARE on A's row), so with FOR UPDATE it waited for A — and when A's claim in
    turn pointed at B, both deadlocked. B's claim must commit while A still holds A's turn."""
    c = org.customer(org.teammate, name="队友建的客户")
    pool.customer_release(actor=org.teammate, customer=c, reason="no_rise")
    holding, done = threading.Event(), threading.Event()
    outcome = {}

    def hold_turn():
        try:
            with transaction.atomic():
                pool.serialise_rep(org.teammate.pk)
                holding.set()
                done.wait(timeout=20)
        finally:
            connections.close_all()

    def claim():
        try:
            holding.wait(timeout=10)
            with connection.cursor() as cur:
                if connection.vendor == "postgresql":
                    cur.execute("SET lock_timeout = '3s'")
            pool.claim_from_pool(actor=org.rep, customer=Customer.objects.get(pk=c.pk))
            outcome["claim"] = "won"
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            outcome["claim"] = repr(exc)
        finally:
            done.set()
            connections.close_all()

    threads = [threading.Thread(target=hold_turn), threading.Thread(target=claim)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert outcome == {"claim": "won"}
    assert Customer.objects.get(pk=c.pk).owner_id == org.rep.pk

"""Periodic jobs claimed once per minute across consumers (real Redis); the load-balancer probes;
the replica router's choices."""

from __future__ import annotations

import contextvars
import datetime as dt
import threading
import uuid

from huey import crontab

from tests.cluster.needs import redis_url
from yixiang import replica
from yixiang.jobs import ClusterRedisHuey


def _consumer_side(name: str, url: str) -> ClusterRedisHuey:
    """One consumer's Huey: its own connection, the cluster's queue name, the two jobs."""
    huey = ClusterRedisHuey(name, url=url, utc=False)
    huey.periodic_task(crontab(hour="6", minute="5"), name="daily")(lambda: None)
    huey.periodic_task(crontab(minute="*/5"), name="sweep")(lambda: None)
    return huey


def test_each_periodic_run_is_enqueued_by_one_consumer_only():
    url, name = redis_url(), f"yx-test-{uuid.uuid4().hex[:8]}"
    consumers = [_consumer_side(name, url) for _ in range(4)]
    at_0605 = dt.datetime(2026, 12, 2, 6, 5, 0)  # noqa: DTZ001 - Huey's local clock is naive (utc=False)
    got: list[list[str]] = [[] for _ in consumers]
    start = threading.Barrier(len(consumers))

    def scheduler(i: int) -> None:  # the consumers' schedulers, racing on the same minute
        start.wait()
        got[i] = [t.name for t in consumers[i].read_periodic(at_0605)]

    threads = [threading.Thread(target=scheduler, args=(i,)) for i in range(len(consumers))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    enqueued = sorted(n for names in got for n in names)
    assert enqueued == ["daily", "sweep"], got  # once each, whichever consumer won

    # The next period is a new claim; the same period again (a late scheduler) is not.
    assert [t.name for t in consumers[0].read_periodic(at_0605 + dt.timedelta(minutes=5))] == ["sweep"]
    assert consumers[1].read_periodic(at_0605 + dt.timedelta(minutes=5, seconds=40)) == []
    assert consumers[2].read_periodic(at_0605 + dt.timedelta(minutes=1)) == []  # nothing due
    consumers[0].storage.conn.delete(*consumers[0].storage.conn.keys(f"{name}.periodic:*"))


def test_health_probes_answer_without_login(client, db):
    r = client.get("/healthz")
    assert r.status_code == 200 and r.json() == {"status": "ok"}
    r = client.get("/readyz")
    assert r.status_code == 200 and r.json() == {"status": "ok", "database": "ok", "queue": "ok"}
    assert "no-cache" in r["Cache-Control"]


def test_readyz_reports_an_unreachable_queue(client, db, monkeypatch):
    from huey.contrib.djhuey import HUEY

    def down() -> int:
        raise ConnectionError("queue down")

    monkeypatch.setattr(HUEY, "pending_count", down)
    r = client.get("/readyz")
    assert r.status_code == 503
    assert r.json() == {"status": "unavailable", "database": "ok", "queue": "unreachable: ConnectionError"}


def test_router_sends_only_marked_unpinned_reads_to_the_replica(monkeypatch):
    router = replica.ReplicaRouter()
    monkeypatch.setattr(replica, "has_replica", lambda: True)

    def run() -> list[str | None]:
        seen = [router.db_for_read(None)]
        with replica.replica_reads():
            seen.append(router.db_for_read(None))
            assert router.db_for_write(None) == "default"  # a write in the report's request...
            seen.append(router.db_for_read(None))  # ...pins its later reads to the primary
        return seen

    assert contextvars.Context().run(run) == [None, "replica", None]
    assert router.allow_migrate("replica", "customers") is False and router.allow_migrate("default", "customers")

    def marked() -> str | None:
        with replica.replica_reads():
            return router.db_for_read(None)

    assert contextvars.Context().run(marked) == "replica"
    monkeypatch.setattr(replica, "has_replica", lambda: False)
    assert contextvars.Context().run(marked) is None  # no replica configured: the primary

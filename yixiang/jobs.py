"""Periodic jobs on several consumer nodes: each runs once per period across the cluster.

Every Huey consumer has its own scheduler, which enqueues each periodic task whose crontab matches
the current minute. With several consumers on one Redis queue, every one of them would enqueue
the nightly recycling, the daily care run, the digests... once each. ``ClusterRedisHuey`` makes
the scheduler claim "task T for minute M" in Redis first (SET NX with an expiry): the first
consumer to claim it enqueues it, the others skip it. A consumer that is down leaves the claim to
the others, so there is no single scheduler to keep alive.

The claim is made where periodic tasks are enqueued, not in the tasks, so it covers every
``@db_periodic_task`` wherever it is declared, and calling a job by hand (or from a test) still
runs it. Message sending stays once-only by its own claim (Message rows claimed with a
conditional UPDATE in aftercare.services), whichever consumer runs the send."""

from __future__ import annotations

import datetime as dt
import logging

from huey import RedisHuey
from huey.api import PeriodicTask

log = logging.getLogger(__name__)

# How long a claim is kept: longer than any clock skew between nodes, shorter than any period
# that matters (a key names its minute, so the next period has a key of its own anyway).
CLAIM_SECONDS = 6 * 3600


def period_key(queue: str, task: PeriodicTask, moment: dt.datetime) -> str:
    """The claim key of one scheduled run: the queue, the task and the minute it is due."""
    return f"{queue}.periodic:{task.name}:{moment:%Y-%m-%dT%H:%M}"


class ClusterRedisHuey(RedisHuey):
    """RedisHuey whose schedulers enqueue each due periodic task once across all consumers."""

    def read_periodic(self, timestamp: dt.datetime | None) -> list[PeriodicTask]:
        if timestamp is None:
            timestamp = self._get_timestamp()
        due = super().read_periodic(timestamp)
        return [task for task in due if self.claim_period(task, timestamp)]

    def claim_period(self, task: PeriodicTask, moment: dt.datetime) -> bool:
        """True for the one consumer that gets to enqueue ``task`` for ``moment``'s minute."""
        conn = getattr(self.storage, "conn", None)
        if conn is None:  # immediate mode (memory storage): one process, nothing to share
            return True
        key = period_key(self.name, task, moment)
        won = bool(conn.set(key, "1", nx=True, ex=CLAIM_SECONDS))
        if not won:
            log.info("periodic task %s for %s: enqueued by another consumer", task.name, moment)
        return won

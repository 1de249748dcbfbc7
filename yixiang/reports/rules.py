"""Report arithmetic as plain functions over plain values (no ORM, no HTTP).

A customer's history is a :class:`Timeline`: when it was created, its stage now, and its stage-change
rows in time order. Everything below — the funnel at a past date, conversion between stages, days
spent in a stage, the win rate of a stage — is read from those rows, never guessed.

Stages are integers: -1 rejecting, 0–4, 5 signed (E class).
"""

from __future__ import annotations

import datetime as dt
import json
import statistics
import urllib.parse
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from yixiang.customers.stages import Stage

SIGNED = Stage.SIGNED.value
REJECTING = Stage.REJECTING.value
STAGES: tuple[int, ...] = tuple(s.value for s in Stage)
# Stages a customer can move on from (the E class is where the pipeline ends).
OPEN_STAGES: tuple[int, ...] = tuple(s.value for s in Stage if s != Stage.SIGNED)


@dataclass(frozen=True)
class Change:
    """One stage-change row: at ``at`` the stage went from ``from_stage`` (None: first record) to ``to_stage``."""

    at: dt.datetime
    from_stage: int | None
    to_stage: int


@dataclass(frozen=True)
class Timeline:
    created_at: dt.datetime
    current_stage: int
    changes: tuple[Change, ...] = ()  # in time order


@dataclass(frozen=True)
class Stint:
    """A stretch of time a customer spent in one stage; ``end`` is None while it lasts."""

    stage: int
    start: dt.datetime
    end: dt.datetime | None


# --- Where a customer stood ---------------------------------------------------------------------


def initial_stage(tl: Timeline) -> int:
    """The stage before the first recorded change (or the stage now when nothing changed)."""
    if not tl.changes:
        return tl.current_stage
    first = tl.changes[0]
    return first.from_stage if first.from_stage is not None else first.to_stage


def stage_at(tl: Timeline, when: dt.datetime) -> int | None:
    """The customer's stage at ``when``: the last change at or before it; before the first change,
    the stage that change left; None if the customer did not exist yet."""
    if tl.created_at > when and (not tl.changes or tl.changes[0].at > when):
        return None
    last = None
    for change in tl.changes:
        if change.at > when:
            break
        last = change
    return last.to_stage if last is not None else initial_stage(tl)


def owner_at(
    changes: Sequence[tuple[dt.datetime, int | None, int | None]], when: dt.datetime, current: int | None
) -> int | None:
    """Who owned the customer at ``when``, from owner-change rows (at, from, to) in time order:
    the last change at or before it; before the first change, that change's former owner."""
    last = None
    for row in changes:
        if row[0] > when:
            break
        last = row
    if last is not None:
        return last[2]
    if changes:
        return changes[0][1]
    return current


def stints(tl: Timeline) -> list[Stint]:
    """The stretches spent in each stage, from creation to now (the last one still open)."""
    start = min(tl.created_at, tl.changes[0].at) if tl.changes else tl.created_at
    stage = initial_stage(tl)
    out: list[Stint] = []
    for change in tl.changes:
        if change.to_stage == stage:
            continue
        out.append(Stint(stage, start, change.at))
        stage, start = change.to_stage, change.at
    out.append(Stint(stage, start, None))
    return out


# --- The funnel -------------------------------------------------------------------------------------


def funnel_counts(stages: Iterable[int | None]) -> dict[int, int]:
    """Customers per stage, every stage present (None — not yet created — is left out)."""
    counts = dict.fromkeys(STAGES, 0)
    for stage in stages:
        if stage is not None:
            counts[stage] = counts.get(stage, 0) + 1
    return counts


def scaled_targets(targets: Mapping[str, int], reps: int) -> dict[str, int]:
    """The tracked-list targets (≈20 / ≈40 / ≈10 per rep) for a group of ``reps`` reps."""
    return {band: int(target) * max(reps, 1) for band, target in targets.items()}


# --- Movement between stages -----------------------------------------------------------------------


@dataclass(frozen=True)
class Conversion:
    stage: int
    entered: int  # customers in this stage at some time in the period
    advanced: int  # … of whom moved beyond it within the period

    @property
    def rate(self) -> float | None:
        return round(self.advanced / self.entered, 4) if self.entered else None


def _overlaps(s: Stint, start: dt.datetime, end: dt.datetime) -> bool:
    return s.start < end and (s.end is None or s.end > start)


def conversions(timelines: Iterable[Timeline], start: dt.datetime, end: dt.datetime) -> list[Conversion]:
    """For each stage k (rejecting … 4): of the customers in k at some time in [start, end), how many
    later reached a higher stage within the period. A jump (1 → 3) passes through 2, so it counts as
    advancing from 1; a customer counts once per stage however often it came back."""
    entered = dict.fromkeys(OPEN_STAGES, 0)
    advanced = dict.fromkeys(OPEN_STAGES, 0)
    for tl in timelines:
        runs = stints(tl)
        for k in OPEN_STAGES:
            in_k = [i for i, s in enumerate(runs) if s.stage == k and _overlaps(s, start, end)]
            if not in_k:
                continue
            entered[k] += 1
            first = in_k[0]
            if any(s.stage > k and s.start < end for s in runs[first + 1 :]):
                advanced[k] += 1
    return [Conversion(k, entered[k], advanced[k]) for k in OPEN_STAGES]


@dataclass(frozen=True)
class StageDuration:
    stage: int
    median_days: float | None
    stints: int


def median_days_in_stage(timelines: Iterable[Timeline], start: dt.datetime, end: dt.datetime) -> list[StageDuration]:
    """Median days spent in each stage, over the stays that ended in [start, end). A stay still
    going on has no length yet and is left out."""
    days: dict[int, list[float]] = {k: [] for k in OPEN_STAGES}
    for tl in timelines:
        for s in stints(tl):
            if s.end is not None and start <= s.end < end and s.stage in days:
                days[s.stage].append((s.end - s.start).total_seconds() / 86400)
    return [StageDuration(k, round(statistics.median(v), 2) if v else None, len(v)) for k, v in days.items()]


@dataclass(frozen=True)
class WinRate:
    stage: int
    reached: int  # customers that were in this stage at some time
    signed: int  # … and signed after that

    def probability(self, min_sample: int) -> float | None:
        """The share that signed, or None while the history is too thin to mean anything."""
        if self.stage == SIGNED:
            return 1.0
        if self.reached < max(min_sample, 1):
            return None
        return round(self.signed / self.reached, 4)


def win_rates(timelines: Iterable[Timeline]) -> dict[int, WinRate]:
    """Learned from history: for each stage, the share of customers who, once in it, later signed."""
    reached = dict.fromkeys(OPEN_STAGES, 0)
    signed = dict.fromkeys(OPEN_STAGES, 0)
    signed_total = 0
    for tl in timelines:
        runs = stints(tl)
        signed_starts = [s.start for s in runs if s.stage == SIGNED]
        if signed_starts:
            signed_total += 1
        for k in OPEN_STAGES:
            first_in_k = next((s.start for s in runs if s.stage == k), None)
            if first_in_k is None:
                continue
            reached[k] += 1
            if any(t > first_in_k for t in signed_starts):
                signed[k] += 1
    out = {k: WinRate(k, reached[k], signed[k]) for k in OPEN_STAGES}
    out[SIGNED] = WinRate(SIGNED, signed_total, signed_total)
    return out


# --- Periods --------------------------------------------------------------------------------------


def bucket_start(day: dt.date, unit: str) -> dt.date:
    """The first day of the week (Monday) or month that holds ``day``."""
    if unit == "month":
        return day.replace(day=1)
    return day - dt.timedelta(days=day.weekday())


def buckets(first: dt.date, last: dt.date, unit: str) -> list[dt.date]:
    """The start days of the weeks or months that cover ``first`` … ``last`` (inclusive)."""
    out: list[dt.date] = []
    cur = bucket_start(first, unit)
    while cur <= last:
        out.append(cur)
        if unit == "month":
            cur = (cur.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
        else:
            cur += dt.timedelta(days=7)
    return out


def week_of(day: dt.date) -> tuple[dt.date, dt.date]:
    """Monday and Sunday of the week that holds ``day``."""
    monday = bucket_start(day, "week")
    return monday, monday + dt.timedelta(days=6)


# --- After the sale ---------------------------------------------------------------------------------


def pareto_curve(amounts: Iterable[Decimal], points: int = 50) -> list[tuple[float, float]]:
    """The 80/20 curve: (share of customers, share of revenue), both in percent, customers sorted
    from the biggest down, starting at (0, 0); at most ``points`` points plus the origin."""
    values = sorted((Decimal(a or 0) for a in amounts), reverse=True)
    n = len(values)
    total = sum(values, Decimal(0))
    if not n or not total:
        return [(0.0, 0.0)]
    step = max(1, -(-n // max(points, 1)))  # ceil(n / points)
    keep = set(range(step, n + 1, step)) | {n}
    out = [(0.0, 0.0)]
    running = Decimal(0)
    for i, v in enumerate(values, start=1):
        running += v
        if i in keep:
            out.append((round(100 * i / n, 2), round(float(100 * running / total), 2)))
    return out


def loyalty_moves(changes: Iterable[tuple[str, str]], order: Sequence[str]) -> dict[str, int]:
    """Loyalty-ladder changes (from, to) counted as up / down / new, ``order`` best first."""
    rank = {code: i for i, code in enumerate(order)}
    out = {"up": 0, "down": 0, "new": 0}
    for frm, to in changes:
        if not frm or frm not in rank:
            out["new"] += 1
        elif rank.get(to, len(order)) < rank[frm]:
            out["up"] += 1
        elif rank.get(to, len(order)) > rank[frm]:
            out["down"] += 1
    return out


# --- Daily digest --------------------------------------------------------------------------------


def parse_hhmm(text: str) -> dt.time:
    hours, minutes = text.strip().split(":")
    return dt.time(int(hours), int(minutes))


def digest_due(now_local: dt.datetime, send_at: dt.time) -> bool:
    """Whether today's digest may go: the user's time of day has come (a late worker catches up)."""
    return now_local.time() >= send_at


def truncate_utf8(text: str, max_bytes: int, ellipsis: str = "…") -> str:
    """``text`` cut to at most ``max_bytes`` UTF-8 bytes, never inside a character."""
    raw = text.encode("utf-8")
    if len(raw) <= max_bytes:
        return text
    room = max_bytes - len(ellipsis.encode("utf-8"))
    return raw[: max(room, 0)].decode("utf-8", errors="ignore") + ellipsis


# WeCom's group robot refuses markdown over 4096 bytes; DingTalk's limit is far higher (20000).
WECOM_MARKDOWN_MAX_BYTES = 4096
DINGTALK_MARKDOWN_MAX_BYTES = 20000


def wecom_payload(markdown: str) -> dict:
    """The JSON body of a WeCom (企业微信) group-robot markdown message."""
    return {"msgtype": "markdown", "markdown": {"content": truncate_utf8(markdown, WECOM_MARKDOWN_MAX_BYTES)}}


def dingtalk_payload(title: str, markdown: str) -> dict:
    """The JSON body of a DingTalk (钉钉) custom-robot markdown message."""
    return {
        "msgtype": "markdown",
        "markdown": {"title": title, "text": truncate_utf8(markdown, DINGTALK_MARKDOWN_MAX_BYTES)},
    }


def signed_webhook_url(url: str, timestamp_ms: int, sign: str) -> str:
    """A DingTalk webhook URL with the ``timestamp`` and ``sign`` query parameters of 加签."""
    extra = urllib.parse.urlencode({"timestamp": str(timestamp_ms), "sign": sign})
    return f"{url}{'&' if '?' in url else '?'}{extra}"


def robot_reply_ok(body: bytes) -> tuple[bool, str]:
    """Both robots answer HTTP 200 with ``{"errcode": 0, "errmsg": "ok"}``; anything else failed."""
    try:
        data = json.loads(body.decode("utf-8") or "{}")
    except (ValueError, UnicodeDecodeError):
        return False, "not JSON"
    if not isinstance(data, dict):
        return False, "not a JSON object"
    code = data.get("errcode")
    return code == 0, f"errcode={code} {data.get('errmsg', '')}".strip()


@dataclass
class DigestSection:
    """One part of a digest (due customers, care events, payouts, renewals) as plain lines."""

    key: str
    title: str
    lines: list[str] = field(default_factory=list)
    more: int = 0  # lines left out to keep the message short


def digest_markdown(title: str, sections: Sequence[DigestSection], link: str = "") -> str:
    """The digest as the markdown both robots understand (headings, lists, links)."""
    parts = [f"### {title}"]
    for sec in sections:
        if not sec.lines:
            continue
        parts.append(f"**{sec.title}** ({len(sec.lines) + sec.more})")
        parts.extend(f"- {line}" for line in sec.lines)
        if sec.more:
            parts.append(f"- … +{sec.more}")
    if link:
        parts.append(f"[{link}]({link})")
    return "\n".join(parts)


def digest_text(title: str, sections: Sequence[DigestSection], link: str = "") -> str:
    """The digest as plain text for the e-mail body."""
    parts = [title, "=" * 20]
    for sec in sections:
        if not sec.lines:
            continue
        parts.append("")
        parts.append(f"{sec.title} ({len(sec.lines) + sec.more})")
        parts.extend(f"  · {line}" for line in sec.lines)
        if sec.more:
            parts.append(f"  · … +{sec.more}")
    if link:
        parts += ["", link]
    return "\n".join(parts)

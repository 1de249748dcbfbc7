"""Migration import ("bring your history"): a team's past follow-ups, contracts, payouts, payments
and owner assignments from CSV/xlsx, for an administrator moving in from spreadsheets.

Every row goes through the service a user's action goes through (aftercare customer_sign,
contract_create, payout_add/payout_mark_paid, payment_record, customer_hand_over), in the order the
history happened, so stage changes, due dates, the agenda, judgment accuracy and incentive activity
come out exactly as if the history had been entered live. Follow-ups, the big file (100,000 rows
for a team's years), go set-based per batch through ``pipeline.services_history``, which checks
and judges each row with ``followup_log``'s own functions and writes a batch in a few statements;
the customers are looked up and duplicates found with one query each per batch. Only the
follow-up back-dating limit is lifted, since past dates are the point.

A job of one kind per file (ImportJob.kind). The file is read by the customer import's reader, so
encodings, xlsx, merged cells and the upload gate are the same. Rows are checked first (line-numbered
errors), then replayed oldest first in batches, each batch one transaction that also advances the
job's progress; a resumed job continues after its last committed batch. A row already in the
archive (same customer, time, channel and note; same contract number; same payout or payment) is a
duplicate: a re-import adds nothing. A dry run replays everything and rolls it back.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from yixiang.accounts.models import User
from yixiang.aftercare import services_contracts as aftercare
from yixiang.aftercare.models import Contract, Payment, Payout
from yixiang.customers import importing, rules
from yixiang.customers.columns import header_key
from yixiang.customers.import_files import HeaderRule, RawRow, conf, open_sheet
from yixiang.customers.import_rows import NO_WORDS, YES_WORDS, RowError, cell_text, excel_date, parse_yuan
from yixiang.customers.import_writer import Superseded, audit_job, remove_upload
from yixiang.customers.models import Customer, ImportJob
from yixiang.customers.stages import Stage
from yixiang.errors import DomainError
from yixiang.pipeline import pool, services_history
from yixiang.pipeline.models import FollowUp, FollowUpChannel
from yixiang.pipeline.playbook import get_playbook

Kind = ImportJob.Kind

# Header texts per field (compared after header_key: case, spaces and punctuation ignored).
FIELDS: dict[str, tuple[str, ...]] = {
    "customer": ("客户编号", "档案编号", "档案号", "archive no", "archive number", "customer no", "customer"),
    "phone": ("电话", "手机", "手机号", "手机号码", "联系电话", "phone", "mobile", "tel"),
    "at": ("跟进时间", "时间", "日期", "date", "time", "datetime", "at"),
    "channel": ("跟进方式", "方式", "渠道", "channel"),
    "effective": ("是否有效", "有效", "effective"),
    "stage": ("跟进后阶段", "意向阶段", "阶段", "stage after", "stage"),
    "signals": ("信号", "signals"),
    "note": ("跟进内容", "内容", "记录", "备注", "summary", "note", "notes"),
    "rep": ("跟进人", "业务员", "rep", "user"),
    "owner": ("负责人", "新负责人", "owner"),
    "number": ("合同编号", "合同号", "contract number", "contract no", "number"),
    "contract_name": ("合同名称", "项目名称", "项目", "contract name", "contract", "project"),
    "signed_on": ("签约日期", "开始日期", "signed on", "start date", "signed"),
    "end_date": ("结束日期", "end date"),
    "amount": ("金额", "合同金额", "amount"),
    "paid_amount": ("首付金额", "已付金额", "paid amount"),
    "due_date": ("应付日期", "到期日", "due date", "due"),
    "paid_on": ("付款日期", "支付日期", "到账日期", "paid on"),
    "category": ("品类", "产品类别", "category"),
}
_ALIASES = {header_key(text): f for f, texts in FIELDS.items() for text in (f, *texts)}
# Per kind: the fields a row must have (besides the customer, which every kind but payouts needs).
REQUIRED: dict[str, tuple[str, ...]] = {
    Kind.FOLLOWUPS: ("at",),
    Kind.CONTRACTS: ("signed_on", "amount"),
    Kind.PAYOUTS: ("number", "due_date", "amount"),
    Kind.PAYMENTS: ("paid_on", "amount"),
    Kind.OWNERS: ("owner",),
}
_KEY_FIELDS = {"customer", "phone", "number"}
HISTORY_HEADER = HeaderRule(
    is_header=lambda cells: any(_ALIASES.get(header_key(c)) in _KEY_FIELDS for c in cells),
    missing=lambda: _("The file has no customer column (客户编号 or 电话 / customer or phone), which is required."),
)

_STAGE_WORDS = {
    "拒绝": Stage.REJECTING, "rejecting": Stage.REJECTING, "-1": Stage.REJECTING,
    "e": Stage.SIGNED, "e类": Stage.SIGNED, "签约": Stage.SIGNED, "已签约": Stage.SIGNED, "signed": Stage.SIGNED,
}  # fmt: skip
_STAGE_NUMBER = re.compile(r"^(?:s|stage)?\s*([0-4])\s*(?:阶段|类)?$", re.IGNORECASE)
_CHANNEL_WORDS = {
    "电话": "phone", "手机": "phone", "拜访": "visit", "上门": "visit", "面谈": "visit", "短信": "sms",
    "微信": "wechat", "邮件": "email", "邮箱": "email", "qq": "qq", "其他": "other", "其它": "other",
}  # fmt: skip
_SPLIT = re.compile(r"[,，、;；|\s]+")
_TIME_RE = re.compile(
    r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?:[ T]+(\d{1,2})[:：](\d{2})(?:[:：](\d{2}))?)?$"
)


@dataclass(slots=True)
class HistoryRow:
    line: int
    values: dict[str, Any]
    at: dt.datetime  # when it happened: the replay order


@dataclass
class _Checked:
    rows: list[HistoryRow] = field(default_factory=list)
    errors: list[tuple[int, str]] = field(default_factory=list)


class _Duplicate(Exception):
    pass


# --------------------------------------------------------------------------------------------
# Checking rows


class _Reader:
    def __init__(self, kind: str, header: list[str]):
        self.kind = kind
        self.columns: dict[str, int] = {}
        for i, text in enumerate(header):
            f = _ALIASES.get(header_key(text))
            if f is not None:
                self.columns.setdefault(f, i)
        missing = [f for f in REQUIRED[kind] if f not in self.columns]
        if kind != Kind.PAYOUTS and not ({"customer", "phone"} & self.columns.keys()):
            missing.insert(0, "customer")
        if missing:
            raise importing.ImportFileError(
                _("The file lacks the columns %(columns)s.") % {"columns": "、".join(FIELDS[f][0] for f in missing)},
                code="import_file",
            )
        self.users = _users()
        self.signals = get_playbook().signal_stage
        self.region = settings.YIXIANG["DEFAULT_PHONE_REGION"]
        self.channels = _channel_words()

    def check(self, raw: RawRow) -> HistoryRow:
        cells = raw.cells
        text = {f: cell_text(cells[i]) if i < len(cells) else "" for f, i in self.columns.items()}
        value = {f: cells[i] if i < len(cells) else None for f, i in self.columns.items()}
        out: dict[str, Any] = {}
        problems: list[str] = []

        def take(f: str, convert: Callable[[str, Any], Any]) -> None:
            if not text.get(f):
                if f in REQUIRED[self.kind]:
                    problems.append(_("The column %(column)s is empty.") % {"column": FIELDS[f][0]})
                return
            try:
                out[f] = convert(text[f], value[f])
            except RowError as exc:
                problems.append(exc.message)

        take("customer", lambda t, v: t)
        take("phone", self._phone)
        if self.kind != Kind.PAYOUTS and not (out.get("customer") or out.get("phone")) and not problems:
            problems.append(_("The row names no customer (customer number or phone)."))
        for f in ("at",):
            take(f, _moment)
        for f in ("signed_on", "end_date", "due_date", "paid_on"):
            take(f, lambda t, v: _day(t, v))
        for f in ("amount", "paid_amount"):
            take(f, lambda t, v: _money(t))
        take("channel", lambda t, v: _channel(t, v, self.channels))
        take("effective", _yes_no)
        take("stage", _stage)
        take("signals", self._signals)
        take("rep", self._user)
        take("owner", self._user)
        for f in ("note", "number", "contract_name", "category"):
            take(f, lambda t, v: t)
        if problems:
            raise RowError(" ".join(problems))
        when = out.get("at") or _noon(out.get("signed_on") or out.get("due_date") or out.get("paid_on"))
        return HistoryRow(line=raw.line, values=out, at=when or timezone.now())

    def _phone(self, text: str, _v: Any) -> str:
        try:
            return rules.normalize_phone(text, self.region)
        except rules.PhoneError:
            raise RowError(_("“%(value)s” is not a valid phone number.") % {"value": text[:40]}) from None

    def _signals(self, text: str, _v: Any) -> list[str]:
        codes = [c for c in _SPLIT.split(text) if c]
        unknown = [c for c in codes if c not in self.signals]
        if unknown:
            raise RowError(_("Unknown signals: %(codes)s") % {"codes": ", ".join(unknown)})
        return codes

    def _user(self, text: str, _v: Any) -> User:
        user = self.users.get(text.casefold())
        if user is None:
            raise RowError(_("“%(value)s” is not a user of Yixiang.") % {"value": text[:60]})
        return user


def _users() -> dict[str, User]:
    found: dict[str, User] = {}
    for user in User.objects.all():
        for name in (user.display_name, user.username):
            if name:
                found.setdefault(name.casefold(), user)
    return found


def _noon(day: dt.date | None) -> dt.datetime | None:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(12))) if day else None


def _moment(text: str, value: Any) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return timezone.make_aware(value) if timezone.is_naive(value) else value
    day = excel_date(value)
    if day is not None and not isinstance(value, str):
        return _noon(day)  # type: ignore[return-value]
    m = _TIME_RE.match(text)
    if m:
        try:
            y, mo, d = int(m[1]), int(m[2]), int(m[3])
            h, mi, s = (int(m[4]), int(m[5]), int(m[6] or 0)) if m[4] else (12, 0, 0)
            return dt.datetime(y, mo, d, h, mi, s, tzinfo=timezone.get_current_timezone())
        except ValueError:
            pass
    raise RowError(_("“%(value)s” is not a date and time (write it like 2024-03-15 14:30).") % {"value": text[:40]})


def _day(text: str, value: Any) -> dt.date:
    day = excel_date(value)
    if day is not None and not isinstance(value, str):
        return day
    return timezone.localtime(_moment(text, value)).date()


def _money(text: str) -> Decimal:
    amount = parse_yuan(text)
    if amount is None:
        raise RowError(_("“%(value)s” is not an amount in yuan.") % {"value": text[:40]})
    return amount


def _channel_words() -> dict[str, str]:
    """Channel texts a file may use: the values, then the labels in the current language, then the
    usual Chinese words (first wins). Built once per file: a label is translated on each str()."""
    words: dict[str, str] = {}
    for value in FollowUpChannel.values:
        words.setdefault(value, value)
    for value, label in FollowUpChannel.choices:
        words.setdefault(str(label).casefold(), value)
    for word, value in _CHANNEL_WORDS.items():
        words.setdefault(word, value)
    return words


def _channel(text: str, _v: Any, words: dict[str, str] | None = None) -> str:
    folded = text.strip().casefold()
    found = (words or _channel_words()).get(folded)
    if found is None:
        raise RowError(_("“%(value)s” is not a follow-up channel.") % {"value": text[:40]})
    return found


def _yes_no(text: str, _v: Any) -> bool:
    folded = text.casefold()
    if folded in YES_WORDS:
        return True
    if folded in NO_WORDS:
        return False
    raise RowError(_("“%(value)s” is not yes or no (是/否).") % {"value": text[:40]})


def _stage(text: str, _v: Any) -> int:
    folded = text.strip().casefold()
    if folded in _STAGE_WORDS:
        return int(_STAGE_WORDS[folded])
    m = _STAGE_NUMBER.match(folded)
    if m:
        return int(m[1])
    raise RowError(_("“%(value)s” is not an intent stage (拒绝, 0–4 or E).") % {"value": text[:40]})


# --------------------------------------------------------------------------------------------
# Replaying rows through the services


class _Replay:
    def __init__(self, job: ImportJob):
        self.job = job
        self.actor = job.created_by

    def customer(self, values: dict[str, Any]) -> Customer:
        """Read afresh for each row: the previous row of the same customer changed its stage."""
        key = values.get("customer") or values.get("phone")
        qs = Customer.objects.filter(deleted_at__isnull=True)
        found = (
            qs.filter(archive_no=values["customer"]).first()
            if values.get("customer")
            else qs.filter(phone_normalized=values["phone"]).first()
        )
        if found is None:
            raise RowError(_("No customer %(key)s in the archive; import the customers first.") % {"key": key})
        return found

    def apply(self, kind: str, values: dict[str, Any], at: dt.datetime) -> None:
        if kind == Kind.PAYOUTS:
            self._payout(values)
            return
        customer = self.customer(values)
        getattr(self, f"_{kind}")(customer, values, at)

    def _contracts(self, customer: Customer, v: dict[str, Any], at: dt.datetime) -> None:
        number = v.get("number", "")
        signed_on = v["signed_on"]
        if number and Contract.objects.filter(number=number).exists():
            raise _Duplicate
        if not number and Contract.objects.filter(customer=customer, start_date=signed_on, amount=v["amount"]).exists():
            raise _Duplicate
        if customer.stage != Stage.SIGNED:
            aftercare.customer_sign(
                actor=self.actor,
                customer=customer,
                amount=v["amount"],
                signed_on=signed_on,
                paid_amount=v.get("paid_amount"),
                contract_name=v.get("contract_name", ""),
                contract_number=number,
                note=v.get("note", ""),
            )
            return
        contract = aftercare.contract_create(
            actor=self.actor,
            customer=customer,
            name=v.get("contract_name") or _("%(name)s contract") % {"name": customer.name},
            number=number
            or f"HT{signed_on:%Y%m%d}-{customer.pk}-{Contract.objects.filter(customer=customer).count() + 1}",
            start_date=signed_on,
            end_date=v.get("end_date"),
            amount=v["amount"],
        )
        if v.get("paid_amount"):
            aftercare.payment_record(
                actor=self.actor, customer=customer, contract=contract, paid_on=signed_on, amount=v["paid_amount"]
            )

    def _payout(self, v: dict[str, Any]) -> None:
        contract = Contract.objects.filter(number=v["number"]).first()
        if contract is None:
            raise RowError(_("No contract %(no)s; import the contracts first.") % {"no": v["number"]})
        payout = Payout.objects.filter(contract=contract, due_date=v["due_date"], amount=v["amount"]).first()
        if payout is None:
            payout = aftercare.payout_add(
                actor=self.actor, contract=contract, due_date=v["due_date"], amount=v["amount"]
            )
        elif not v.get("paid_on") or payout.status == Payout.Status.PAID:
            raise _Duplicate
        if v.get("paid_on"):
            aftercare.payout_mark_paid(actor=self.actor, payout=payout, paid_on=v["paid_on"])

    def _payments(self, customer: Customer, v: dict[str, Any], at: dt.datetime) -> None:
        contract = None
        if v.get("number"):
            contract = Contract.objects.filter(number=v["number"]).first()
            if contract is None:
                raise RowError(_("No contract %(no)s; import the contracts first.") % {"no": v["number"]})
        note = v.get("note", "").strip()[:200]
        same = Payment.objects.filter(
            customer=customer, paid_on=v["paid_on"], amount=v["amount"], contract=contract, note=note
        )
        if same.exists():
            raise _Duplicate
        aftercare.payment_record(
            actor=self.actor,
            customer=customer,
            contract=contract,
            paid_on=v["paid_on"],
            amount=v["amount"],
            note=note,
            category=v.get("category", ""),
        )

    def _owners(self, customer: Customer, v: dict[str, Any], at: dt.datetime) -> None:
        if customer.owner_id == v["owner"].pk:
            raise _Duplicate
        pool.customer_hand_over(actor=self.actor, customer=customer, to_user=v["owner"], note=v.get("note", ""))


def _messages(exc: DomainError) -> str:
    errors = getattr(exc, "errors", None)
    if isinstance(errors, dict) and errors:
        return " ".join(str(m) for msgs in errors.values() for m in msgs)
    return str(getattr(exc, "message", None) or exc)


# --------------------------------------------------------------------------------------------
# The job


def check_history_import(actor: User) -> None:
    """A migration rewrites the past: administrators only."""
    if not actor.is_admin_role:
        raise DomainError(_("Only an administrator can import history."), code="forbidden")


def run(job: ImportJob, progress: Callable[[ImportJob], None] | None) -> None:
    """Run (or resume) a history job; registered with the customer import for every kind but customers."""
    check_history_import(job.created_by)
    with open_sheet(job.file_path, header=HISTORY_HEADER) as sheet:
        reader = _Reader(job.kind, sheet.header)
        checked = _Checked()
        for raw in sheet.rows:
            try:
                checked.rows.append(reader.check(raw))
            except RowError as exc:
                checked.errors.append((raw.line, exc.message))
    # Oldest first, as the history happened; rows of one moment in file order.
    checked.rows.sort(key=lambda r: (r.at, r.line))
    total = len(checked.rows) + len(checked.errors)
    ImportJob.objects.filter(pk=job.pk).update(total_rows=total)
    job.total_rows = total
    if job.dry_run:
        _dry_run(job, checked, progress)
    else:
        _replay(job, checked, progress)


def _replay(job: ImportJob, checked: _Checked, progress: Callable[[ImportJob], None] | None) -> None:
    size = max(int(conf("IMPORT_BATCH_SIZE")), 1)
    replay = _Replay(job)
    first = job.processed_rows == 0
    if first:
        with transaction.atomic():
            _claim(job)
            _save(job, len(checked.errors), 0, [], checked.errors)
    skip = job.processed_rows - len(checked.errors)  # rows of batches committed before a resume
    rows = checked.rows[skip:]
    for start in range(0, len(rows), size):
        batch = rows[start : start + size]
        with transaction.atomic():
            _claim(job)
            created, skipped, errors = _apply_all(replay, job.kind, batch)
            _save(job, len(batch), created, skipped, errors)
        if progress:
            progress(job)
    _finish(job)


def _dry_run(job: ImportJob, checked: _Checked, progress: Callable[[ImportJob], None] | None) -> None:
    """Replays everything inside one transaction and rolls it back; only the counts stay."""

    class _Rollback(Exception):
        pass

    counts: tuple[int, list[tuple[int, str]], list[tuple[int, str]]] = (0, [], [])
    size = max(int(conf("IMPORT_BATCH_SIZE")), 1)
    try:
        with transaction.atomic():
            created, skipped, errors = 0, [], []
            for start in range(0, len(checked.rows), size):  # the batches of the real run
                c, s, e = _apply_all(_Replay(job), job.kind, checked.rows[start : start + size])
                created, skipped, errors = created + c, skipped + s, errors + e
            counts = (created, skipped, errors)
            raise _Rollback
    except _Rollback:
        pass
    created, skipped, errors = counts
    with transaction.atomic():
        _claim(job)
        _save(job, len(checked.rows) + len(checked.errors), created, skipped, sorted(checked.errors + errors))
    if progress:
        progress(job)
    _finish(job)


def _apply_all(
    replay: _Replay, kind: str, rows: list[HistoryRow]
) -> tuple[int, list[tuple[int, str]], list[tuple[int, str]]]:
    if kind == Kind.FOLLOWUPS:
        return _apply_followups(rows)
    created, skipped, errors = 0, [], []
    for row in rows:
        try:
            with transaction.atomic():
                replay.apply(kind, row.values, row.at)
            created += 1
        except _Duplicate:
            skipped.append((row.line, _("Already in the archive.")))
        except RowError as exc:
            errors.append((row.line, exc.message))
        except DomainError as exc:
            errors.append((row.line, _messages(exc)))
    return created, skipped, errors


def _apply_followups(rows: list[HistoryRow]) -> tuple[int, list[tuple[int, str]], list[tuple[int, str]]]:
    """A batch of follow-up rows (oldest first), as ``_Replay`` would one by one: the customer, a
    duplicate of what is stored (or of an earlier row of the file), a signing, then the pipeline's
    checks and judgment, set-based."""
    found = _customers(rows)
    outcome: dict[int, str | services_history.PastFollowUp] = {}  # line → error text or the item
    items: list[services_history.PastFollowUp] = []
    first_of: dict[tuple, services_history.PastFollowUp] = {}
    followers: dict[int, services_history.PastFollowUp] = {}  # line → the same row earlier in the batch
    stored = _stored_keys(found.values(), rows)
    for row in rows:
        v = row.values
        customer = found.get(v.get("customer") or v.get("phone"))
        if customer is None:
            key = v.get("customer") or v.get("phone")
            outcome[row.line] = _("No customer %(key)s in the archive; import the customers first.") % {"key": key}
            continue
        channel = v.get("channel", FollowUpChannel.PHONE)
        note = v.get("note", "")
        same = (customer.pk, row.at, channel, note.strip())
        if same in stored:
            outcome[row.line] = _DUPLICATE
            continue
        stage = v.get("stage")
        if stage == Stage.SIGNED:
            if customer.stage != Stage.SIGNED:
                outcome[row.line] = _("A signing is imported with the contracts file (签约), not as a follow-up.")
                continue
            stage = None
        if same in first_of:
            followers[row.line] = first_of[same]
            continue
        item = services_history.PastFollowUp(
            customer_id=customer.pk,
            at=row.at,
            actor=v.get("rep"),
            channel=channel,
            effective=v.get("effective", True),
            summary=note,
            signals=v.get("signals", ()),
            stage=stage,
        )
        first_of[same] = outcome[row.line] = item
        items.append(item)
    services_history.followups_record_past(items=items)
    created, skipped, errors = 0, [], []
    for row in rows:
        result = outcome.get(row.line)
        if row.line in followers:  # a repeat: a duplicate once its first is stored, else the same error
            first = followers[row.line]
            result = _DUPLICATE if first.follow_up is not None else first.error
        if isinstance(result, services_history.PastFollowUp):
            if result.follow_up is not None:
                created += 1
            else:
                errors.append((row.line, str(result.error)))
        elif result is _DUPLICATE:
            skipped.append((row.line, _("Already in the archive.")))
        else:
            errors.append((row.line, str(result)))
    return created, skipped, errors


_DUPLICATE = object()


def _customers(rows: list[HistoryRow]) -> dict[str, Customer]:
    """The batch's customers by the key its rows name them by (archive number, else phone): what
    ``_Replay.customer`` finds for each row, in two queries."""
    numbers = {r.values["customer"] for r in rows if r.values.get("customer")}
    phones = {r.values["phone"] for r in rows if not r.values.get("customer") and r.values.get("phone")}
    live = Customer.objects.filter(deleted_at__isnull=True).order_by("-pk")  # the lowest pk wins, as first()
    found: dict[str, Customer] = {}
    if numbers:
        found.update((c.archive_no, c) for c in live.filter(archive_no__in=numbers))
    if phones:
        found.update((c.phone_normalized, c) for c in live.filter(phone_normalized__in=phones))
    return found


def _stored_keys(customers: Iterable[Customer], rows: list[HistoryRow]) -> set[tuple]:
    """(customer, time, channel, note) of the follow-ups already stored for the batch's customers in
    its time span (a sorted batch spans little time), in one query."""
    ids = {c.pk for c in customers}
    if not ids or not rows:
        return set()
    ats = [r.at for r in rows]
    return set(
        FollowUp.objects.filter(customer_id__in=ids, at__gte=min(ats), at__lte=max(ats)).values_list(
            "customer_id", "at", "channel", "summary"
        )
    )


def _claim(job: ImportJob) -> None:
    state = ImportJob.objects.select_for_update().filter(pk=job.pk).values_list("status", "processed_rows").first()
    if state != (ImportJob.Status.RUNNING, job.processed_rows):
        raise Superseded


def _save(
    job: ImportJob, rows: int, created: int, skipped: list[tuple[int, str]], errors: list[tuple[int, str]]
) -> None:
    job.processed_rows += rows
    job.created_count += created
    job.skipped_count += len(skipped)
    job.error_count += len(errors)
    cap = int(conf("IMPORT_MAX_STORED_ERRORS"))
    entries = list(job.errors or [])
    for kind, items in (("error", errors), ("duplicate", skipped)):
        room = cap - sum(1 for e in entries if e.get("kind") == kind)
        entries.extend({"line": line, "reason": reason, "kind": kind} for line, reason in items[: max(room, 0)])
    job.errors = entries
    job.save(update_fields=["processed_rows", "created_count", "skipped_count", "error_count", "errors"])


def _finish(job: ImportJob) -> None:
    job.status = ImportJob.Status.DONE
    job.finished_at = timezone.now()
    job.total_rows = job.processed_rows
    job.message = importing.job_summary(job)
    done = ImportJob.objects.filter(
        pk=job.pk, status=ImportJob.Status.RUNNING, processed_rows=job.processed_rows
    ).update(status=job.status, finished_at=job.finished_at, total_rows=job.total_rows, message=job.message)
    if not done:
        raise Superseded
    audit_job(job)
    if not job.dry_run:
        remove_upload(job)

"""Fill a Yixiang database with a realistic sales organisation at a chosen scale.

    .venv/bin/python -m bench.generate --customers 20000 --db sqlite
    .venv/bin/python -m bench.generate --customers 1000000 --db postgres --force

Scale: one rep per 1,000 customers (teams of 10 with a lead, regions of 10 teams with a
director). Each rep tracks about 20 stage-0, 40 stage-1/2 and 10 stage-3/4 customers (the
tracked-list targets) plus some rejecting ones, and keeps ~15 % of "their" thousand as signed
E-class customers; the rest sits in the public pool, most of it with a history (worked by a rep,
then released or recycled) and the remainder fresh leads. Every worked customer has 10–30
follow-ups over the last two years; stage changes follow the path to its current stage; owner
changes record distribution, release, recycling and claims; E-class customers have contracts,
payouts, first-month payments and shipments; some customers were referred by E-class ones.
``last_contact_at``/``next_due_on`` follow the cadence (pipeline rules): most customers are on
time, some overdue, a few overdue or held long enough for the daily recycling job.

The real migrated schema is used as it is (``migrate`` runs first); rows go in with executemany
(SQLite) or COPY (PostgreSQL) in big transactions. A non-empty database is refused unless
``--force``, which empties the app's tables first.
"""

from __future__ import annotations

import argparse
import bisect
import datetime as dt
import itertools
import json
import math
import random
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

from bench.common import add_db_arguments, configure

SURNAMES = (
    "王14 李14 张13 刘10 陈9 杨7 黄6 赵6 吴5 周5 徐4 孙4 马4 朱4 胡3 郭3 何3 高3 林3 罗3 郑3 梁3 谢2 宋2 唐2 "
    "许2 韩2 冯2 邓2 曹2 彭2 曾2 肖2 田2 董2 袁2 潘2 于1 蒋1 蔡1 余1 杜1 叶1 程1 苏1 魏1 吕1 丁1 任1 沈1 "
    "姚1 卢1 姜1 崔1 钟1 谭1 陆1 汪1 范1 金1 石1 廖1 贾1 夏1 韦1 付1 方1 白1 邹1 孟1 熊1 秦1 邱1 江1 尹1 "
    "薛1 闫1 段1 雷1 侯1 龙1 史1 陶1 黎1 贺1 顾1 毛1 郝1 龚1 邵1 万1 钱1 严1 覃1 武1 戴1 莫1 孔1 向1 汤1 "
    "欧阳1 司马1 诸葛1 上官1"
).split()
GIVEN = (
    "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂华建国志海燕玉春梅晓东文子涵浩然欣怡俊雨轩"
    "宇轩博文梓萱诗琪思远佳豪嘉怡欣妍一鸣天佑宏伟振华立新红霞永刚秀珍淑芬丽娟桂芳晨阳晓燕德明"
    "国栋建军红梅凤英亚楠鹏飞金凤丹丹婷婷晶晶磊鑫雪莉慧敏瑞祥福海家乐"
)
CITIES_BY_REGION = [
    [("北京", "北京"), ("天津", "天津"), ("河北", "石家庄"), ("河北", "保定")],
    [("上海", "上海"), ("江苏", "南京"), ("江苏", "苏州"), ("浙江", "杭州"), ("浙江", "宁波")],
    [("广东", "广州"), ("广东", "深圳"), ("广东", "东莞"), ("福建", "厦门")],
    [("湖北", "武汉"), ("湖南", "长沙"), ("河南", "郑州")],
    [("四川", "成都"), ("重庆", "重庆"), ("云南", "昆明")],
    [("陕西", "西安"), ("甘肃", "兰州"), ("宁夏", "银川")],
    [("辽宁", "沈阳"), ("吉林", "长春"), ("黑龙江", "哈尔滨")],
    [("山东", "济南"), ("山东", "青岛"), ("山东", "烟台")],
    [("安徽", "合肥"), ("江西", "南昌"), ("安徽", "芜湖")],
    [("广西", "南宁"), ("海南", "海口"), ("贵州", "贵阳")],
]
REGION_NAMES = ["华北", "华东", "华南", "华中", "西南", "西北", "东北", "山东", "皖赣", "桂琼"]
INDUSTRIES = [
    "餐饮",
    "教育培训",
    "建材",
    "汽车服务",
    "美容美发",
    "服装",
    "电子商务",
    "旅游",
    "医疗器械",
    "物流",
    "装修",
    "农业",
]
BRANDS = "鑫华盛达福瑞兴隆宏远恒通金泰永昌新宇天成博信嘉和顺发聚丰广源德润星光"
COMPANY_SUFFIX = ["贸易有限公司", "科技有限公司", "餐饮管理有限公司", "商贸行", "实业有限公司", "服务部"]
STREETS = ["人民路", "中山路", "解放路", "建设路", "和平路", "长江路", "黄河路", "新华街"]
HOBBIES = ["钓鱼", "喝茶", "打高尔夫", "旅游", "书法", "摄影", "跑步", "下棋", "养花", "唱歌"]
OCCUPATIONS = ["企业主", "经理", "教师", "医生", "个体户", "工程师", "会计", "公务员"]
TAGS = ["老客户介绍", "展会", "价格敏感", "决策人难找", "重点跟进", "已拜访", "竞品用户", "VIP"]
MOBILE_PREFIXES = (
    "130 131 132 133 134 135 136 137 138 139 150 151 152 153 155 156 157 158 159 166 "
    "170 171 173 175 176 177 178 180 181 182 183 184 185 186 187 188 189 191 198 199"
).split()
SUMMARIES = {
    -1: ["客户表示暂时不需要，语气冷淡。", "一开口就说不需要，挂了电话。"],
    0: [
        "客户在开会，约好下周再打；不太了解我们的产品。",
        "客户没听说过我们，同意下次再联系。",
        "客户抱怨之前的服务商，愿意听听。",
    ],
    1: ["客户愿意听介绍，回答了几个问题，认同我们的分析。", "聊了二十分钟，客户有问必答。"],
    2: ["客户问效果怎么样，和同行比较了一下，想了解怎么做。", "客户问售后服务和同行案例，讲了自己的想法。"],
    3: ["客户询问价格和优惠，问预存多久能用完，售后怎么样。", "客户问什么时候能上线，要求减免开户费。"],
    4: ["客户确认要签，在考虑预存金额，约好下周带合同过去。", "老板出差，回来就签；金额还在商量。"],
    5: [
        "回访已签约客户，询问效果，顺便请其转介绍。",
        "客户反馈效果不错，提到一位朋友也有需要。",
        "提醒客户下月返款，客户很满意。",
    ],
}
CHANNELS = ["phone"] * 14 + ["wechat"] * 3 + ["sms", "visit", "email"]
HOT_CHANNELS = ["phone"] * 5 + ["visit"] * 3 + ["wechat"] * 2
# Local business hours 08:30–20:00 (Asia/Shanghai, UTC+8, no DST) as minutes of the day.
DAY_START, DAY_END = 510, 1200
UTC_OFFSET_HOURS = 8
TRACKED_PER_REP = {-1: 4, 0: 20, 1: 20, 2: 20, 3: 6, 4: 4}
SIGNED_SHARE = 0.15  # of each rep's thousand customers
FRESH_POOL_SHARE = 0.10  # of the pool: imported leads nobody has worked yet
HISTORY_DAYS = 730


def _weighted(items: list[str]) -> tuple[list[str], list[int]]:
    names, cum, total = [], [], 0
    for item in items:
        name = item.rstrip("0123456789")
        total += int(item[len(name) :])
        names.append(name)
        cum.append(total)
    return names, cum


class Generator:
    def __init__(self, *, customers: int, seed: int, today: dt.date, now_minute: int, threaded: bool, out=sys.stdout):
        from django.db import connection

        self.n = customers
        self.reps_n = max(1, round(customers / 1000))
        self.rnd = random.Random(seed)
        self.today = today
        self.now_minute = now_minute
        self.threaded = threaded
        self.out = out
        self.vendor = connection.vendor
        self.tz_suffix = "+00" if self.vendor == "postgresql" else ""
        self.started = time.perf_counter()
        self.pinyin_cache: dict[str, tuple[str, str]] = {}
        self.due_cache: dict[tuple[int, int, int], str] = {}
        self.surnames, self.surname_cum = _weighted(SURNAMES)
        self.day = [(today - dt.timedelta(days=a)).isoformat() for a in range(HISTORY_DAYS + 400)]
        self.tod = [
            f" {m // 60 - UTC_OFFSET_HOURS:02d}:{m % 60:02d}:{(m * 37) % 60:02d}" for m in range(DAY_START, DAY_END)
        ]
        self.ids: dict[str, itertools.count] = {}
        self._load_rules()

    # --- helpers -------------------------------------------------------------------------------

    def log(self, msg: str) -> None:
        print(f"[{time.perf_counter() - self.started:7.1f}s] {msg}", file=self.out, flush=True)

    def next_id(self, table: str) -> int:
        counter = self.ids.get(table)
        if counter is None:
            counter = self.ids[table] = itertools.count(1)
        return next(counter)

    def ts(self, ago: int, minute: int | None = None) -> str:
        """UTC timestamp text for a local day ``ago`` days back at a local business minute."""
        if minute is None:
            minute = DAY_START + int(self.rnd.random() * (DAY_END - DAY_START))
        if ago <= 0:
            ago = 0
            if minute >= self.now_minute:  # never in the future
                if self.now_minute <= DAY_START:
                    # Before business hours: still today (callers derived due dates from that day),
                    # at a minute already past — whose UTC date is the day before.
                    local = dt.datetime.combine(self.today, dt.time()) + dt.timedelta(
                        minutes=max(0, self.now_minute - 1)
                    )
                    utc = local - dt.timedelta(hours=UTC_OFFSET_HOURS)
                    return utc.strftime("%Y-%m-%d %H:%M:%S") + self.tz_suffix
                else:
                    minute = DAY_START + (minute - DAY_START) % max(1, self.now_minute - DAY_START)
        return self.day[ago] + self.tod[minute - DAY_START] + self.tz_suffix

    def person_name(self) -> str:
        rnd = self.rnd.random
        surname = self.surnames[bisect.bisect_left(self.surname_cum, rnd() * self.surname_cum[-1] + 1e-9)]
        given = GIVEN[int(rnd() * len(GIVEN))]
        if rnd() < 0.65:
            given += GIVEN[int(rnd() * len(GIVEN))]
        return surname + given

    def pinyin(self, name: str) -> tuple[str, str]:
        keys = self.pinyin_cache.get(name)
        if keys is None:
            keys = self.pinyin_cache[name] = self.pinyin_keys(name)
        return keys

    def phone(self, i: int) -> tuple[str, str]:
        """A unique CN mobile number for index i (a bijection on the 8-digit subscriber part)."""
        suffix = f"{(i * 48271 + 12345) % 100_000_000:08d}"
        prefix = MOBILE_PREFIXES[(i * 7) % len(MOBILE_PREFIXES)]
        return f"{prefix} {suffix[:4]} {suffix[4:]}", f"+86{prefix}{suffix}"

    def due_on(self, stage: int, last_ago: int, planned_ago: int | None) -> str:
        key = (stage, last_ago, planned_ago if planned_ago is not None else 99999)
        value = self.due_cache.get(key)
        if value is None:
            last = self.today - dt.timedelta(days=last_ago)
            planned = self.today - dt.timedelta(days=planned_ago) if planned_ago is not None else None
            value = self.due_cache[key] = self.next_due_rule(
                stage=stage,
                last_effective_contact=last,
                planned_next=planned,
                today=self.today,
                cadence=self.cadence,
                calendar=self.calendar,
                shift_holidays=self.shift_holidays,
                slower_shift=self.slower_shift,
            ).isoformat()
        return value

    def _load_rules(self) -> None:
        from yixiang.customers.rules import pinyin_keys

        self.pinyin_keys = pinyin_keys
        try:  # the pipeline's own cadence rule and settings, when present
            from yixiang.pipeline import rules as pipeline_rules
            from yixiang.pipeline.conf import conf

            self.cadence = {int(k): int(v) for k, v in conf("CADENCE_DAYS").items()}
            self.shift_holidays = bool(conf("HOLIDAY_SHIFT"))
            self.slower_shift = str(conf("HOLIDAY_SHIFT_SLOWER"))
            # The migrated database's statutory calendar, every year of it (a few hundred rows).
            from yixiang.pipeline.selectors import work_calendar

            self.calendar = work_calendar(dt.date(2000, 1, 1), self.today + dt.timedelta(days=400))
            self.next_due_rule = pipeline_rules.next_due_on
            self.recycle_overdue = int(conf("RECYCLE_OVERDUE_DAYS"))
            self.recycle_hold = int(conf("RECYCLE_HOLD_DAYS"))
            self.locks_per_rep = int(conf("RECYCLE_LOCKS_PER_REP"))
        except ImportError:  # pragma: no cover - the pipeline app predates the benchmark
            raise SystemExit("bench/generate.py needs yixiang.pipeline.rules and conf") from None
        playbook = Path(__file__).resolve().parent.parent / "yixiang" / "pipeline" / "data" / "playbook.json"
        codes: dict[int, list[str]] = {s: [] for s in range(-1, 6)}
        if playbook.exists():
            data = json.loads(playbook.read_text())
            for key, stage in data.get("stages", {}).items():
                codes[int(key)] = [s["code"] for s in stage.get("signals", [])]
        self.signal_json = {
            s: [json.dumps(c[i : i + 2], ensure_ascii=False) for i in range(max(1, len(c) - 1))] if c else ["[]"]
            for s, c in codes.items()
        }

    # --- staff -----------------------------------------------------------------------------

    def staff(self) -> None:
        from django.contrib.auth.hashers import make_password

        from yixiang.accounts.models import Region, Role, Team, User

        rnd = self.rnd
        password = make_password("bench-password-123")
        teams_n = math.ceil(self.reps_n / 10)
        regions_n = math.ceil(teams_n / 10)
        regions = Region.objects.bulk_create(
            [Region(name=f"{REGION_NAMES[i % 10]}{'' if i < 10 else i // 10 + 1}大区") for i in range(regions_n)]
        )
        teams = Team.objects.bulk_create(
            [Team(name=f"{regions[i // 10].name[:-2]}{i % 10 + 1}组", region=regions[i // 10]) for i in range(teams_n)]
        )
        joined = self.today - dt.timedelta(days=2000)

        def person(username: str, role: str, **extra) -> User:
            extra.setdefault("hire_date", joined)
            return User(username=username, password=password, role=role, **extra)

        users = [
            person("admin", Role.ADMIN, display_name="系统管理员", is_staff=True, is_superuser=True, can_unmask=True)
        ]
        for i, region in enumerate(regions):
            users.append(
                person(f"director{i + 1:02d}", Role.DIRECTOR, region=region, display_name=self.person_name() + "总监")
            )
        for i, team in enumerate(teams):
            users.append(
                person(
                    f"lead{i + 1:03d}",
                    Role.LEAD,
                    team=team,
                    region=team.region,
                    display_name=self.person_name() + "组长",
                )
            )
        for i in range(self.reps_n):
            team = teams[i // 10]
            recent = rnd.random() < 0.03
            hire = self.today - dt.timedelta(days=int(rnd.random() * 15) if recent else 200 + int(rnd.random() * 2000))
            users.append(
                person(
                    f"rep{i + 1:04d}", Role.REP, team=team, region=team.region, display_name=self.person_name(),
                    hire_date=hire, on_probation=recent or rnd.random() < 0.06,
                )
            )  # fmt: skip
        User.objects.bulk_create(users, batch_size=1000)
        staff = list(User.objects.order_by("id").values("id", "role", "team_id", "region_id", "username"))
        self.admin_id = next(u["id"] for u in staff if u["username"] == "admin")
        self.rep_ids = [u["id"] for u in staff if u["role"] == Role.REP]
        self.rep_region = {u["id"]: u["region_id"] for u in staff if u["role"] == Role.REP}
        self.region_ids = [r.pk for r in regions]
        self.region_cities = {r.pk: CITIES_BY_REGION[i % len(CITIES_BY_REGION)] for i, r in enumerate(regions)}
        self.region_reps: dict[int, list[int]] = {}
        for rid in self.rep_ids:
            self.region_reps.setdefault(self.rep_region[rid], []).append(rid)
        from yixiang.customers.models import Tag

        self.tag_ids = [t.pk for t in Tag.objects.bulk_create([Tag(name=n) for n in TAGS])]
        self.log(f"staff: {len(regions)} regions, {len(teams)} teams, {self.reps_n} reps, {len(users)} users")
        self.assessments(staff)

    def assessments(self, staff: list[dict]) -> None:
        """Incentive inputs (when the incentives app has them): each rep assessed with a threshold of
        1 or 2 and a performance pay, and each director's filed region target, for the last three
        months; the new customers themselves come from the first payments (``--derive``)."""
        try:
            from yixiang.incentives.models import Assessment
        except ImportError:
            return
        from django.utils import timezone

        from yixiang.accounts.models import Role

        rnd = self.rnd.random
        months = []
        first = self.today.replace(day=1)
        for _ in range(3):
            months.append(first)
            first = (first - dt.timedelta(days=1)).replace(day=1)
        rows = []
        for month in months:
            filed = timezone.make_aware(dt.datetime.combine(month + dt.timedelta(days=4), dt.time(9)))
            for u in staff:
                if u["role"] == Role.REP:
                    threshold = 2 if rnd() < 0.7 else 1
                    rows.append(
                        Assessment(user_id=u["id"], month=month, threshold=threshold,
                                   performance_pay=2000 + 500 * int(rnd() * 7), on_probation=rnd() < 0.06)
                    )  # fmt: skip
                elif u["role"] == Role.DIRECTOR:
                    late = dt.timedelta(days=2) if rnd() < 0.1 else dt.timedelta(0)
                    reps = sum(1 for r in staff if r["role"] == Role.REP and r["region_id"] == u["region_id"])
                    rows.append(
                        Assessment(user_id=u["id"], month=month, target=int(reps * 1.6), target_filed_at=filed + late)
                    )
        Assessment.objects.bulk_create(rows, batch_size=2000)
        self.log(f"incentive assessments: {len(rows):,} for {len(months)} months")

    # --- the plan: who is what ---------------------------------------------------------------

    def plan(self) -> list[tuple[str, int | None, int]]:
        """(kind, owner, stage) per customer id-1, shuffled so a rep's customers are spread out."""
        rnd = self.rnd
        entries: list[tuple[str, int | None, int]] = []
        per_rep = self.n / self.reps_n
        for rep in self.rep_ids:
            for stage, target in TRACKED_PER_REP.items():
                count = max(0, round(target * (0.8 + 0.4 * rnd.random())))
                entries.extend(("T", rep, stage) for _ in range(count))
            signed = round(per_rep * SIGNED_SHARE * (0.7 + 0.6 * rnd.random()))
            entries.extend(("E", rep, 5) for _ in range(signed))
        if len(entries) > self.n:
            raise SystemExit(f"{self.n} customers is too few for {self.reps_n} reps; use at least 1,000 per rep")
        pool_stages = [-1] * 3 + [0] * 4 + [1] * 2 + [2]
        while len(entries) < self.n:
            if rnd.random() < FRESH_POOL_SHARE:
                entries.append(("F", None, 0))
            else:
                entries.append(("P", None, pool_stages[int(rnd.random() * len(pool_stages))]))
        rnd.shuffle(entries)
        return entries

    # --- the customers -----------------------------------------------------------------------

    def customers(self) -> None:
        from bench.sink import Sink
        from yixiang.aftercare.models import Contract, Payment, Payout, Shipment
        from yixiang.customers.fields import encrypt
        from yixiang.customers.models import ContactPerson, Customer, CustomerChange
        from yixiang.pipeline.models import FollowUp, OwnerChange, StageChange

        plan = self.plan()
        self.signed_ids = [i + 1 for i, p in enumerate(plan) if p[0] == "E"]
        sink = Sink(threaded=self.threaded)
        self.sink = sink
        self.t_customer = sink.table(
            Customer,
            [
                "id", "kind", "name", "name_pinyin", "name_initials", "archive_no", "owner_id", "stage", "grade",
                "expected_sign_month", "value_tier", "phone", "phone_normalized", "wechat", "preferred_channel",
                "gender", "birth_date", "birthday_calendar", "occupation", "hobbies", "region_id", "province",
                "city", "address", "source", "company_name", "industry", "company_size", "decision_maker",
                "bank_card", "last_contact_at", "next_due_on", "held_since", "recycle_locked", "signed_at",
                "referrer_id", "created_by_id", "created_at", "updated_at", "deleted_at", "version",
            ],
        )  # fmt: skip
        self.t_follow = sink.table(
            FollowUp,
            [
                "id", "customer_id", "rep_id", "at", "channel", "duration_minutes", "effective", "summary",
                "signals", "stage_before", "stage_after", "next_contact_on", "created_at",
            ],
        )  # fmt: skip
        self.t_stage = sink.table(
            StageChange,
            [
                "id",
                "customer_id",
                "from_stage",
                "to_stage",
                "at",
                "by_id",
                "owner_id",
                "signals",
                "note",
                "follow_up_id",
            ],
        )
        self.t_owner = sink.table(
            OwnerChange, ["id", "customer_id", "from_owner_id", "to_owner_id", "reason", "detail", "at", "by_id"]
        )
        self.t_change = sink.table(CustomerChange, ["id", "customer_id", "actor_id", "action", "changes", "at"])
        self.t_contact = sink.table(ContactPerson, ["id", "customer_id", "name", "title", "phone", "is_decision_maker"])
        self.t_tag = sink.table(Customer.tags.through, ["id", "customer_id", "tag_id"])
        self.t_contract = sink.table(
            Contract,
            [
                "id", "customer_id", "name", "number", "start_date", "end_date", "amount", "status",
                "payout_card", "signed_by_id", "created_at",
            ],
        )  # fmt: skip
        self.t_payout = sink.table(Payout, ["id", "contract_id", "due_date", "amount", "status", "paid_on"])
        self.t_payment = sink.table(
            Payment, ["id", "customer_id", "contract_id", "paid_on", "amount", "recorded_by_id", "created_at"]
        )
        self.t_shipment = sink.table(
            Shipment, ["id", "customer_id", "shipped_on", "order_no", "amount", "recorded_by_id", "created_at"]
        )
        # Fernet is slow and the values are only ever shown masked: a few hundred ciphertexts, reused.
        self.cards = [encrypt("6222" + f"{self.rnd.getrandbits(40):012d}"[-12:]) for _ in range(200)]
        self.archive_seq: Counter[int] = Counter()
        self.locks: Counter[int] = Counter()
        self.stats: Counter[str] = Counter()
        step = max(1, self.n // 20)
        for idx, (kind, owner, stage) in enumerate(plan):
            self.customer(idx + 1, kind, owner, stage)
            if (idx + 1) % step == 0:
                self.log(
                    f"customers {idx + 1:>9,}/{self.n:,}  follow-ups {self.t_follow.count + len(self.t_follow.rows):>11,}"
                    f"  written {sink.written:>11,} rows"
                )
        self.log("flushing the last batches …")
        sink.close()
        for name, value in sorted(self.stats.items()):
            self.log(f"  {name}: {value:,}")

    def customer(self, cid: int, kind: str, owner: int | None, stage: int) -> None:
        rnd = self.rnd.random
        is_company = rnd() < 0.2
        region = self.rep_region[owner] if owner else self.region_ids[int(rnd() * len(self.region_ids))]
        cities = self.region_cities[region]
        province, city = cities[int(rnd() * len(cities))]
        person = self.person_name()
        if is_company:
            name = (
                city + BRANDS[int(rnd() * len(BRANDS))] + BRANDS[int(rnd() * len(BRANDS))]
                + INDUSTRIES[int(rnd() * len(INDUSTRIES))][:2] + COMPANY_SUFFIX[int(rnd() * len(COMPANY_SUFFIX))]
            )  # fmt: skip
        else:
            name = person
        full, initials = self.pinyin(name)
        if rnd() < 0.03:
            phone, phone_key = "", None
        else:
            phone, phone_key = self.phone(cid)

        # Timeline (days ago): created → [previous owner] → held since → last contact.
        grade, expected_month, value_tier, signed_ts, held_ts, due, locked = "", None, "", None, None, None, 0
        prev_rep = None
        if kind == "T":
            held_ago = 1 + int(rnd() * 19) if rnd() < 0.1 else 20 + int(rnd() * 156)
            if rnd() < 0.015:  # held past the limit: the recycling job's work
                held_ago = self.recycle_hold + 1 + int(rnd() * 60)
            claimed = rnd() < 0.4
            created_ago = held_ago + 30 + int(rnd() * 400) if claimed else held_ago
            interval = self.cadence[stage]
            r = rnd()
            if r < 0.72:
                last_ago = int(rnd() * (interval + 1))
            elif r < 0.95:
                last_ago = interval + 1 + int(rnd() * 25)
            else:
                last_ago = interval + self.recycle_overdue + 1 + int(rnd() * 40)
            created_ago = min(max(created_ago, last_ago + 10), HISTORY_DAYS)
            last_ago = min(last_ago, created_ago - 10)
            held_ago = min(held_ago, created_ago)
            if claimed:
                prev_rep = self.rep_ids[int(rnd() * len(self.rep_ids))]
            if stage in (3, 4):
                grade = "ABC"[min(2, int(rnd() * 3.3))]
            elif stage in (1, 2):
                grade = "" if rnd() < 0.2 else ("C" if rnd() < 0.4 else "D")
            elif rnd() < 0.5:
                grade = "D"
            if grade in ("A", "B", "C"):
                months = {"A": 0, "B": 1, "C": 2}[grade]
                m = self.today.month - 1 + months
                expected_month = dt.date(self.today.year + m // 12, m % 12 + 1, 1).isoformat()
            held_ts = self.ts(held_ago)
            if self.locks[owner] < self.locks_per_rep and rnd() < 0.03:
                self.locks[owner] += 1
                locked = 1
            self.stats["tracked"] += 1
        elif kind == "E":
            created_ago = 60 + int(rnd() * (HISTORY_DAYS - 60))
            signed_ago = 1 + int(rnd() * (created_ago - 30))
            last_ago = int(rnd() * 16) if rnd() < 0.8 else 16 + int(rnd() * 25)
            last_ago = min(last_ago, signed_ago)
            held_ago = created_ago
            held_ts = self.ts(held_ago)
            value_tier = "ABCCCCDD"[int(rnd() * 8)] if rnd() < 0.9 else "A"
            self.stats["signed"] += 1
        elif kind == "P":
            created_ago = 30 + int(rnd() * (HISTORY_DAYS - 30))
            released_ago = 1 + int(rnd() * (created_ago - 15))
            last_ago = min(created_ago - 10, released_ago + int(rnd() * 40))
            prev_rep = self.region_reps[region][int(rnd() * len(self.region_reps[region]))]
            self.stats["pool_worked"] += 1
        else:
            created_ago = int(rnd() * HISTORY_DAYS)
            last_ago = None
            self.stats["pool_fresh"] += 1

        created_ts = self.ts(created_ago, DAY_START)
        created_year = int(self.day[created_ago][:4])
        self.archive_seq[created_year] += 1
        archive_no = f"KH{created_year}{self.archive_seq[created_year]:06d}"

        last_ts = None
        if last_ago is not None:
            # A third of tracked customers have a planned next contact from their last follow-up.
            planned_ago = None
            if kind == "T" and rnd() < 0.3:
                planned_ago = last_ago - 1 - int(rnd() * self.cadence[stage])
            k = 10 + int(rnd() * 21)
            last_ts, sign_ts = self.history(
                cid, kind, stage, k, created_ago, last_ago, owner or prev_rep, prev_rep if kind == "T" else None,
                held_ago if kind == "T" else None,
                (self.today - dt.timedelta(days=planned_ago)).isoformat() if planned_ago is not None else None,
            )  # fmt: skip
            if kind == "E":
                signed_ts = sign_ts
            if kind in ("T", "E"):
                due = self.due_on(stage, last_ago, planned_ago)

        # Owner changes: distributed at creation; claimed / released / recycled later.
        oc = self.t_owner.add
        nid = self.next_id
        if kind in ("T", "E") and prev_rep is None:
            oc((nid("oc"), cid, None, owner, "distribute", "", created_ts, self.admin_id))
        elif prev_rep is not None:
            oc((nid("oc"), cid, None, prev_rep, "distribute", "", created_ts, self.admin_id))
            if kind == "T":
                gone_ago = max(held_ago + 1, (created_ago + held_ago) // 2)
                oc((nid("oc"), cid, prev_rep, None, "recycle", "overdue", self.ts(gone_ago), None))
                oc((nid("oc"), cid, None, owner, "claim", "", held_ts, owner))
            elif rnd() < 0.6:
                oc((nid("oc"), cid, prev_rep, None, "recycle", "overdue", self.ts(released_ago), None))
            else:
                oc((nid("oc"), cid, prev_rep, None, "release", "no_rise", self.ts(released_ago), prev_rep))

        referrer = None
        source = ("purchased_list", "database", "event", "front_desk", "phone_duty", "competitor_list", "partner")[
            int(rnd() * 7)
        ]
        if self.signed_ids and rnd() < 0.05:
            referrer = self.signed_ids[int(rnd() * len(self.signed_ids))]
            if referrer == cid:
                referrer = None
            else:
                source = "referral"
                self.stats["referred"] += 1
        deleted = self.ts(int(rnd() * 200)) if kind == "F" and rnd() < 0.02 else None
        birth = f"{1955 + int(rnd() * 45)}-{1 + int(rnd() * 12):02d}-{1 + int(rnd() * 28):02d}" if rnd() < 0.6 else None
        self.t_customer.add(
            (
                cid, "company" if is_company else "individual", name, full, initials, archive_no, owner, stage, grade,
                expected_month, value_tier, phone, phone_key,
                f"wx_{cid * 7919 % 10_000_000}" if rnd() < 0.4 else "",
                "wechat" if rnd() < 0.2 else "phone", "" if is_company else ("male" if rnd() < 0.55 else "female"),
                birth, "lunar" if rnd() < 0.12 else "solar", OCCUPATIONS[int(rnd() * len(OCCUPATIONS))],
                HOBBIES[int(rnd() * len(HOBBIES))], region, province, city,
                f"{city}市{STREETS[int(rnd() * len(STREETS))]}{1 + int(rnd() * 300)}号", source,
                name if is_company else "", INDUSTRIES[int(rnd() * len(INDUSTRIES))],
                ("1-10人", "11-50人", "51-200人")[int(rnd() * 3)] if is_company else "", person if is_company else "",
                self.cards[int(rnd() * len(self.cards))] if kind == "E" else "",
                last_ts, due, held_ts, locked, signed_ts, referrer, self.admin_id, created_ts,
                last_ts or created_ts, deleted, 1,
            )
        )  # fmt: skip
        self.t_change.add((nid("cc"), cid, self.admin_id, "import", "{}", created_ts))
        if is_company:
            for j in range(1 + (rnd() < 0.4)):
                self.t_contact.add(
                    (nid("cp"), cid, person if j == 0 else self.person_name(), "总经理" if j == 0 else "财务",
                     self.phone(60_000_000 + cid * 2 + j)[0], 1 if j == 0 else 0)
                )  # fmt: skip
        if rnd() < 0.1:
            first = int(rnd() * len(self.tag_ids))
            self.t_tag.add((nid("tag"), cid, self.tag_ids[first]))
            if rnd() < 0.3:
                self.t_tag.add((nid("tag"), cid, self.tag_ids[(first + 1) % len(self.tag_ids)]))
        if kind == "E":
            self.contracts(cid, owner, signed_ts)

    def history(
        self,
        cid: int,
        kind: str,
        final: int,
        k: int,
        created_ago: int,
        last_ago: int,
        worker: int,
        prev_rep: int | None,
        held_ago: int | None,
        planned: str | None,
    ) -> tuple[str, str | None]:
        """k follow-ups between creation and the last contact (the last one effective, on
        ``last_ago``), with the stage changes of the path from the first stage to ``final``.
        Returns (last contact ts, signing ts)."""
        rnd = self.rnd.random
        span = created_ago - last_ago  # at least 10 days by construction
        minutes = DAY_END - DAY_START
        times = sorted(
            ((last_ago + 1 + int(rnd() * span), DAY_START + int(rnd() * minutes)) for _ in range(k - 1)),
            key=lambda t: (-t[0], t[1]),
        )
        times.append((last_ago, DAY_START + int(rnd() * minutes)))
        start = 0 if final >= 0 or rnd() < 0.5 else -1
        if rnd() < 0.1 and final >= 0:
            start = -1
        path = list(range(start + 1, final + 1)) if final >= start else []
        if final == -1 and start == 0:
            path = [-1]
        if len(path) >= 2 and rnd() < 0.1:  # a judgment taken back: drop one stage, then rise again
            j = 1 + int(rnd() * (len(path) - 1))
            path[j:j] = [path[j - 1] - 1, path[j - 1]]
        m = len(path)
        post_sign = 0
        if kind == "E":
            post_sign = min(k - m - 1, 2 + int(rnd() * 8))
            sign_at = k - 1 - post_sign
            change_at = sorted(self.rnd.sample(range(1, sign_at), m - 1)) + [sign_at] if m else []
        else:
            change_at = sorted(self.rnd.sample(range(k), m))
        # The first stage, recorded when the customer was created.
        created_ts = self.ts(created_ago, DAY_START)
        self.t_stage.add((self.next_id("sc"), cid, None, start, created_ts, self.admin_id, None, "[]", "", None))
        stage = start
        next_change = 0
        last_ts = ""
        sign_ts = None
        fadd = self.t_follow.add
        sadd = self.t_stage.add
        summaries = SUMMARIES
        signals = self.signal_json
        for i, (ago, minute) in enumerate(times):
            ts = self.ts(ago, minute)
            rep = prev_rep if prev_rep is not None and held_ago is not None and ago > held_ago else worker
            changes = next_change < m and change_at[next_change] == i
            before = stage
            if changes:
                stage = path[next_change]
                next_change += 1
            effective = 1 if changes or i == k - 1 or rnd() < 0.85 else 0
            sig = signals[stage]
            sig_json = sig[int(rnd() * len(sig))] if changes or rnd() < 0.3 else "[]"
            texts = summaries[stage]
            fid = self.next_id("fu")
            fadd(
                (fid, cid, rep, ts, (HOT_CHANNELS if stage >= 3 else CHANNELS)[int(rnd() * 10)],
                 1 + int(rnd() * 30), effective, texts[int(rnd() * len(texts))] if effective else "未接通",
                 sig_json, before, stage, planned if i == k - 1 else None, ts)
            )  # fmt: skip
            if changes:
                sadd((self.next_id("sc"), cid, before, stage, ts, rep, rep, sig_json, "", fid))
                if stage == 5:
                    sign_ts = ts
            last_ts = ts
        return last_ts, sign_ts

    def contracts(self, cid: int, owner: int, signed_ts: str | None) -> None:
        """One contract at signing (a third renewed a year later), quarterly payouts, first-month
        payments and shipments in the first three months."""
        rnd = self.rnd.random
        signed = dt.date.fromisoformat(signed_ts[:10]) if signed_ts else self.today - dt.timedelta(days=30)
        starts = [signed]
        if rnd() < 0.33 and signed + dt.timedelta(days=365) < self.today:
            starts.append(signed + dt.timedelta(days=365))
        for n, start in enumerate(starts):
            # First payments: log-normal around 20,000 yuan, so some fall below the 7,950 floor.
            amount = round(min(500_000, max(3_000, math.exp(9.9 + 0.9 * self.rnd.gauss(0, 1)))), -2)
            end = start + dt.timedelta(days=365)
            status = "renewed" if n + 1 < len(starts) else ("ended" if end < self.today else "active")
            ctid = self.next_id("ct")
            start_ts = signed_ts if n == 0 and signed_ts else start.isoformat() + " 02:00:00" + self.tz_suffix
            self.t_contract.add(
                (ctid, cid, ("推广", "会员", "托管", "年度服务")[int(rnd() * 4)] + "项目", f"HT{ctid:08d}",
                 start.isoformat(), end.isoformat(), f"{amount:.2f}", status,
                 self.cards[int(rnd() * len(self.cards))], owner, start_ts)
            )  # fmt: skip
            for q in range(1, 5):
                due = start + dt.timedelta(days=91 * q)
                if due < self.today - dt.timedelta(days=5):
                    p_status, paid = "paid", due.isoformat()
                elif due < self.today:
                    p_status, paid = "late", None
                else:
                    p_status, paid = "scheduled", None
                self.t_payout.add((self.next_id("po"), ctid, due.isoformat(), f"{amount * 0.03:.2f}", p_status, paid))
            parts = 1 + int(rnd() * 3)
            for p in range(parts):
                day = start + dt.timedelta(days=0 if p == 0 else int(rnd() * 25))
                if day > self.today:
                    day = self.today
                self.t_payment.add(
                    (self.next_id("pm"), cid, ctid, day.isoformat(), f"{amount / parts:.2f}", owner,
                     day.isoformat() + " 03:00:00" + self.tz_suffix)
                )  # fmt: skip
            if n == 0:
                for month in range(3):
                    day = start + dt.timedelta(days=30 * month + int(rnd() * 28))
                    if day <= self.today and rnd() < 0.7:
                        sid = self.next_id("sh")
                        self.t_shipment.add(
                            (sid, cid, day.isoformat(), f"SO{sid:09d}", f"{amount / 6:.2f}", owner,
                             day.isoformat() + " 04:00:00" + self.tz_suffix)
                        )  # fmt: skip

    # --- finishing -------------------------------------------------------------------------

    def sequences(self) -> None:
        """Counters the application continues from: archive numbers per year, and on PostgreSQL the
        id sequences (rows went in with explicit ids; SQLite's AUTOINCREMENT follows by itself)."""
        from django.db import connection

        from yixiang.customers.models import ArchiveSequence

        ArchiveSequence.objects.bulk_create(
            [ArchiveSequence(key=str(year), value=seq) for year, seq in self.archive_seq.items()]
        )
        if connection.vendor == "postgresql":
            q = connection.ops.quote_name
            with connection.cursor() as cur:
                for t in self.sink.tables:
                    cur.execute(
                        f"SELECT setval(pg_get_serial_sequence(%s, 'id'), COALESCE((SELECT MAX(id) FROM {q(t.name)}), 1))",
                        [t.name],
                    )

    def analyze(self) -> None:
        from django.db import connection

        self.log("analyzing (planner statistics) …")
        if connection.vendor == "postgresql":
            connection.close()
            import psycopg

            s = connection.settings_dict
            with psycopg.connect(
                dbname=s["NAME"], user=s.get("USER") or None, host=s.get("HOST") or None, port=s.get("PORT") or None,
                password=s.get("PASSWORD") or None, autocommit=True,
            ) as conn:  # fmt: skip
                conn.execute("VACUUM (ANALYZE)")
        else:
            with connection.cursor() as cur:
                cur.execute("ANALYZE")
        self.log("done")


def check_references(models: list[Any] | None = None) -> list[str]:
    """Rows whose foreign key points at nothing (loading skipped the database's own checks)."""
    from django.apps import apps
    from django.db import connection

    problems = []
    q = connection.ops.quote_name
    for model in models or [m for m in apps.get_models() if m._meta.app_label in APP_LABELS]:
        for field in model._meta.concrete_fields:
            if not field.is_relation or not field.db_constraint:
                continue
            target = field.related_model._meta
            sql = (
                f"SELECT COUNT(*) FROM {q(model._meta.db_table)} t WHERE t.{q(field.column)} IS NOT NULL AND NOT EXISTS "
                f"(SELECT 1 FROM {q(target.db_table)} r WHERE r.{q(field.target_field.column)} = t.{q(field.column)})"
            )
            with connection.cursor() as cur:
                cur.execute(sql)
                bad = cur.fetchone()[0]
            if bad:
                problems.append(f"{model._meta.label}.{field.name}: {bad} dangling")
    return problems


APP_LABELS = {"accounts", "customers", "pipeline", "aftercare", "incentives", "reports"}


def is_empty() -> bool:
    from yixiang.accounts.models import User
    from yixiang.customers.models import Customer

    return not Customer.objects.exists() and not User.objects.exists()


def empty_database() -> None:
    """--force: start again from an empty database migrated by the project's own migrations, so
    rows that data migrations create (the default incentive scheme, …) are there as in production."""
    from django.core.management import call_command
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute("DROP SCHEMA public CASCADE")
            cur.execute("CREATE SCHEMA public")
    else:
        path = Path(connection.settings_dict["NAME"])
        connection.close()
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    call_command("migrate", verbosity=0, interactive=False)


def generate(
    *, customers: int, seed: int = 7, today: dt.date | None = None, threaded: bool = True, out=sys.stdout
) -> Generator:
    """Build the data set in the configured database (which must be migrated and empty)."""
    from django.db import connection, transaction
    from django.utils import timezone

    now = timezone.localtime()
    gen = Generator(
        customers=customers,
        seed=seed,
        today=today or now.date(),
        now_minute=now.hour * 60 + now.minute if today is None else DAY_END,
        threaded=threaded,
        out=out,
    )
    with transaction.atomic():
        gen.staff()
    if threaded:
        connection.close()  # the writer thread needs the database to itself (SQLite journal mode)
    gen.customers()
    gen.sequences()
    if threaded:
        # As an installation does once (manage.py funnel_snapshots --backfill): a past date's funnel
        # reads these snapshots, so the benchmark measures that path and not an empty table.
        from yixiang.reports.funnel_snapshots import funnel_snapshots_backfill

        began = time.monotonic()
        result = funnel_snapshots_backfill(until=gen.today - dt.timedelta(days=1))
        gen.log(f"funnel snapshots: {result.get('rows', 0):,} rows for {result.get('days', 0)} days "
                f"in {time.monotonic() - began:.0f} s")  # fmt: skip
        gen.analyze()
    return gen


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], prog="python -m bench.generate")
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--force", action="store_true", help="empty a non-empty database first")
    parser.add_argument("--check", action="store_true", help="check every foreign key afterwards (slow at 1M)")
    add_db_arguments(parser)
    args = parser.parse_args(argv)
    configure(args, args.customers)
    from django.core.management import call_command
    from django.db import connection

    started = time.perf_counter()
    print(f"database: {connection.vendor} {connection.settings_dict['NAME']}", flush=True)
    call_command("migrate", verbosity=0, interactive=False)
    if not is_empty():
        if not args.force:
            print("The database is not empty; use --force to empty it first.", file=sys.stderr)
            return 2
        print("--force: emptying the app's tables …", flush=True)
        empty_database()
    gen = generate(customers=args.customers, seed=args.seed)
    if args.check or args.customers <= 200_000:
        problems = check_references()
        for p in problems:
            print("REFERENCE PROBLEM:", p, file=sys.stderr)
        if problems:
            return 1
        print("references checked: all foreign keys resolve", flush=True)
    elapsed = time.perf_counter() - started
    rows = sum(t.count for t in gen.sink.tables)
    print(
        f"generated {args.customers:,} customers, {rows:,} rows in {elapsed:,.1f} s "
        f"({rows / elapsed:,.0f} rows/s; database busy {gen.sink.db_seconds:,.1f} s)",
        flush=True,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Load the demo company once: admin; region 华东 (director, two leads, six reps) and region 华南
(director2, lead3, rep7), so a director's scope can be seen; a few hundred customers over every
intent stage and E-class, with follow-ups, stage changes, contracts, payouts and payments.

Idempotent: does nothing when the demo admin already exists. Deterministic (fixed random seed)."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction
from django.test import override_settings
from django.utils import timezone

from yixiang.accounts.models import Region, Role, Team, User
from yixiang.aftercare import services_contracts
from yixiang.aftercare.models import Contract, Payout
from yixiang.customers import services as customer_services
from yixiang.customers.models import Customer, CustomerChange, Grade, Kind, Source
from yixiang.pipeline import pool
from yixiang.pipeline.conf import conf as pipeline_conf
from yixiang.pipeline.models import OwnerChange, ReleaseReason

DEMO_PASSWORD = "yixiang-demo"  # noqa: S105 (documented demo password, README warns to change it)

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华建国志强海燕玉兰春梅晓东文静子涵浩然欣怡俊杰雨轩"
CITIES = [("上海", "上海"), ("江苏", "南京"), ("江苏", "苏州"), ("浙江", "杭州"), ("浙江", "宁波"), ("安徽", "合肥")]
INDUSTRIES = ["餐饮", "教育培训", "建材", "汽车服务", "美容美发", "服装", "电子商务", "旅游", "医疗器械", "物流"]
COMPANY_SUFFIX = ["贸易有限公司", "科技有限公司", "餐饮管理有限公司", "商贸行", "实业有限公司"]
HOBBIES = ["钓鱼", "喝茶", "打高尔夫", "旅游", "书法", "摄影", "跑步", "下棋", "养花"]
TAGS = ["老客户介绍", "展会", "价格敏感", "决策人难找", "重点跟进", "已拜访"]
# (name, index into the reps, stage): customers the README's search examples find.
EXAMPLES = [("张三", 0, 2), ("张松", 0, 3), ("张淑芬", 3, 1)]
MISSED = "未接通，改天再打。"
SUMMARIES = {
    -1: "客户表示暂时不需要，语气冷淡。",
    0: "客户在开会，约好下周再打；不太了解我们的产品。",
    1: "客户愿意听介绍，回答了几个问题，认同我们的分析。",
    2: "客户问效果怎么样，和同行比较了一下，想了解怎么做。",
    3: "客户询问价格和优惠，问预存多久能用完，售后怎么样。",
    4: "客户确认要签，在考虑预存金额，约好下周带合同过去。",
    5: "回访已签约客户，询问效果，顺便请其转介绍。",
}


class Command(BaseCommand):
    help = "Load the demo company (once)."

    def add_arguments(self, parser):
        parser.add_argument("--customers-per-rep", type=int, default=45)
        parser.add_argument("--pool", type=int, default=30)

    def handle(self, *args, customers_per_rep: int, pool: int, **options):
        if User.objects.filter(username="admin").exists():
            self.stdout.write("Demo data already loaded.")
            return
        rnd = random.Random(20261123)  # noqa: S311 (demo data, not security)
        # Months of history go through the follow-up service, which refuses back-dating beyond
        # FOLLOWUP_BACKDATE_DAYS: the demo's past is allowed for the load only.
        backdate = {**getattr(settings, "YIXIANG", {}), "FOLLOWUP_BACKDATE_DAYS": 400}
        with transaction.atomic(), override_settings(YIXIANG=backdate):
            reps, admin = self._staff()
            n = 0
            for rep in reps:
                for _ in range(customers_per_rep):
                    self._customer(rnd, rep, admin)
                    n += 1
            for _ in range(pool):
                former = rnd.choice(reps[:6]) if rnd.random() < 0.7 else None
                self._customer(rnd, None, admin, former=former)
                n += 1
            # The README's search examples (zs, zhangsan) find someone.
            for name, rep, stage in EXAMPLES:
                self._customer(rnd, reps[rep], admin, name=name, stage=stage)
                n += 1
        with transaction.atomic():
            self._after_sale(admin)
            self._incentives(admin)
            self._recycling_for_the_lead(reps)
            self._judgments_without_evidence(reps)
        self.stdout.write(self.style.SUCCESS(f"Demo data loaded: {len(reps)} reps, {n} customers."))

    def _staff(self) -> tuple[list[User], User]:
        east = Region.objects.create(name="华东大区")
        t1 = Team.objects.create(name="华东一组", region=east)
        t2 = Team.objects.create(name="华东二组", region=east)
        south = Region.objects.create(name="华南大区")
        t3 = Team.objects.create(name="华南一组", region=south)
        today = timezone.localdate()

        def make(username: str, role: str, name: str, team: Team | None = None, **extra) -> User:
            region = None if role == Role.ADMIN else (team.region if team else extra.pop("region", east))
            return User.objects.create_user(
                username=username, password=DEMO_PASSWORD, role=role, display_name=name, team=team,
                region=region, hire_date=extra.pop("hire_date", dt.date(2022, 3, 1)), **extra,
            )  # fmt: skip

        admin = make("admin", Role.ADMIN, "系统管理员", is_staff=True, is_superuser=True, can_unmask=True)
        make("director", Role.DIRECTOR, "周总监", can_unmask=True)
        make("lead1", Role.LEAD, "陈组长", t1)
        make("lead2", Role.LEAD, "林组长", t2)
        reps = [
            make("rep1", Role.REP, "王小明", t1),
            make("rep2", Role.REP, "李娜", t1),
            make("rep3", Role.REP, "张伟", t1, on_probation=True, hire_date=today - dt.timedelta(days=60)),
            make("rep4", Role.REP, "刘洋", t2),
            make("rep5", Role.REP, "赵敏", t2),
            make("rep6", Role.REP, "孙浩", t2),
        ]
        # The second region (after the first's reps, so their seeded data stays the same).
        make("director2", Role.DIRECTOR, "黄总监", region=south)
        make("lead3", Role.LEAD, "郑组长", t3)
        reps.append(make("rep7", Role.REP, "吴倩", t3))
        return reps, admin

    def _customer(
        self,
        rnd: random.Random,
        rep: User | None,
        admin: User,
        *,
        former: User | None = None,
        name: str | None = None,
        stage: int | None = None,
    ) -> Customer:
        drawn = rnd.choices([-1, 0, 1, 2, 3, 4, 5], weights=[3, 20, 20, 20, 6, 4, 12])[0]
        if rep is None:
            drawn = rnd.choice([-1, 0, 0, 1])
        stage = drawn if stage is None else stage
        is_company = rnd.random() < 0.45
        person = rnd.choice(SURNAMES) + "".join(rnd.choice(GIVEN) for _ in range(rnd.choice([1, 2])))
        province, city = rnd.choice(CITIES)
        industry = rnd.choice(INDUSTRIES)
        data = {
            "kind": Kind.COMPANY if is_company else Kind.INDIVIDUAL,
            "name": (city + person[0] + rnd.choice("鑫华盛达福瑞兴隆") + rnd.choice(COMPANY_SUFFIX))
            if is_company
            else person,
            "phone": "1" + rnd.choice("3456789") + "".join(rnd.choice("0123456789") for _ in range(9)),
            "gender": rnd.choice(["male", "female"]),
            "birth_date": dt.date(rnd.randint(1960, 1998), rnd.randint(1, 12), rnd.randint(1, 28)),
            "birthday_calendar": rnd.choice(["solar", "solar", "lunar"]),
            "province": province,
            "city": city,
            "address": f"{city}市{rnd.choice(['人民路', '中山路', '解放路', '建设路'])}{rnd.randint(1, 300)}号",
            "industry": industry,
            "decision_maker": person if is_company else "",
            "hobbies": "、".join(rnd.sample(HOBBIES, 2)),
            "source": rnd.choice([s.value for s in Source]),
            "preferred_channel": rnd.choice(["phone", "phone", "wechat", "sms", "email"]),
            "wechat": f"wx_{rnd.randint(100000, 999999)}",
            "funds_available": Decimal(rnd.choice([0, 20000, 50000, 100000, 300000])),
            "occupation": rnd.choice(["企业主", "经理", "教师", "医生", "个体户"]),
        }
        if stage == 5:
            data["bank_card"] = "6222" + "".join(rnd.choice("0123456789") for _ in range(12))
        try:
            customer = customer_services.customer_create(
                actor=rep or former or admin,
                data=data if name is None else {**data, "kind": Kind.INDIVIDUAL, "name": name, "decision_maker": ""},
                owner=rep or former,
                tags=rnd.sample(TAGS, rnd.choice([0, 1, 2])),
            )
        except customer_services.Conflict:  # a random phone collided: take another
            return self._customer(rnd, rep, admin, former=former, name=name, stage=stage)
        self._history(rnd, customer, rep, stage)
        return customer

    def _history(self, rnd: random.Random, customer: Customer, rep: User | None, stage: int) -> None:
        """Months of work on one customer, told through the services a rep uses (follow-ups that
        write StageChange rows, the signing, a release to the pool), so the demo tells one story:
        created before its first contact, stages moved only by calls that reached the customer."""
        from yixiang.pipeline import services as pipeline_services

        now = timezone.now()
        held_days = rnd.randint(20, 150)
        start = now - dt.timedelta(days=held_days)
        owner = rep or customer.owner
        # Created the day the rep took it on, a little before the first contact.
        Customer.objects.filter(pk=customer.pk).update(created_at=start, held_since=start if rep else None)
        CustomerChange.objects.filter(customer=customer, action=CustomerChange.Action.CREATE).update(at=start)
        if owner is not None:
            OwnerChange.objects.create(
                customer=customer, to_owner=owner, reason=OwnerChange.Reason.CREATED, at=start, by=owner
            )
        path = [0] if stage >= 0 else [-1]
        last_judged = min(stage, 4)
        while stage >= 0 and path[-1] < last_judged:
            path.append(path[-1] + 1)
        contacts = max(len(path), rnd.randint(2, 6)) if rep else (rnd.randint(1, 2) if owner else 0)
        cadence = pipeline_conf("CADENCE_DAYS")
        # The latest contact is recent (some customers due today, a few overdue), the rest spread back.
        last_day = held_days - rnd.randint(0, cadence[stage] + 5)
        steps = []
        if contacts:
            steps = sorted(rnd.sample(range(1, last_day), k=max(0, min(contacts - 1, last_day - 1)))) + [last_day]
        current = 0
        grade = ""
        if stage in (3, 4):
            grade = rnd.choice([Grade.A, Grade.B, Grade.C])
        elif stage in (1, 2):
            grade = rnd.choice([Grade.C, Grade.D])
        last_at = None
        for i, day in enumerate(steps):
            judged = path[min(len(path) - 1, round(i * (len(path) - 1) / max(1, len(steps) - 1)))]
            at = min(start + dt.timedelta(days=day, hours=rnd.randint(1, 8)), now - dt.timedelta(minutes=30 + i))
            # Only a call that reached the customer moves the stage; a missed one says so.
            effective = judged != current or rnd.random() > 0.15
            pipeline_services.followup_log(
                actor=owner, customer=customer, at=at, stage=judged, effective=effective,
                channel=rnd.choice(["phone", "phone", "wechat", "visit"]) if effective else "phone",
                duration_minutes=rnd.randint(2, 40) if effective else 0,
                summary=SUMMARIES[judged] if effective else MISSED,
                grade=grade if i == len(steps) - 1 else None,
            )  # fmt: skip
            current = judged
            last_at = at
        if stage == 5 and owner is not None:
            # Signed the day after the last call (a signing dated that day would read 12:00, before it).
            signed = min(timezone.localtime(last_at or now).date() + dt.timedelta(days=1), timezone.localdate())
            amount = Decimal(rnd.choice([7950, 12000, 20000, 36000, 50000, 80000]))
            contract = services_contracts.customer_sign(
                actor=owner, customer=customer, amount=amount, paid_amount=amount, signed_on=signed,
                contract_name=f"{customer.name} 推广项目",
            )  # fmt: skip
            self._payouts(contract, customer, signed)
        if rep is None and owner is not None:
            # A former rep let it go: the pool customer keeps its history and the reason.
            pool.customer_release(actor=owner, customer=customer, reason=ReleaseReason.NO_RISE)

    def _recycling_for_the_lead(self, reps: list[User]) -> None:
        """rep2 and rep3 (华东一组) each let a stage 3–4 customer fall five weeks behind: its whole
        story moves 40 days back (nobody called since), and the nightly recycling proposes it to
        lead1 instead of taking it (issue 15's confirmation list)."""
        from yixiang.pipeline.models import FollowUp, StageChange

        back = dt.timedelta(days=40)
        for rep in reps[1:3]:
            hot = Customer.objects.filter(owner=rep, stage__in=[3, 4], recycle_locked=False).order_by("pk").first()
            if hot is None:
                continue
            for model in (FollowUp, StageChange, OwnerChange, CustomerChange):
                for row in model.objects.filter(customer=hot):
                    model.objects.filter(pk=row.pk).update(at=row.at - back)
            Customer.objects.filter(pk=hot.pk).update(
                **{
                    f: getattr(hot, f) - back
                    for f in ("created_at", "held_since", "stage_rose_at", "last_contact_at", "next_due_on")
                    if getattr(hot, f) is not None
                }
            )
        pool.recycle_run()

    def _judgments_without_evidence(self, reps: list[User]) -> None:
        """rep3 raises two stage-1 customers today on a hunch: one with nothing ticked and no judging
        answer in the note, one to stage 3 on a stage-2 signal. The team review counts both and
        lead1 opens them (issue 15: a judgment needs evidence)."""
        from yixiang.pipeline import services as pipeline_services

        rep = reps[2]
        ones = list(Customer.objects.filter(owner=rep, stage=1).order_by("pk")[:2])
        for customer, stage, signals, note in zip(
            ones,
            (2, 3),
            ((), ("asks_how",)),
            ("聊了聊近况，感觉还行。", "他问了具体怎么做，我觉得快成了。"),
            strict=False,
        ):
            pipeline_services.followup_log(
                actor=rep, customer=customer, stage=stage, signals=signals, summary=note, channel="phone"
            )

    def _payouts(self, contract: Contract, customer: Customer, signed: dt.date) -> None:
        card = Customer.objects.get(pk=customer.pk).bank_card or ""
        Contract.objects.filter(pk=contract.pk).update(payout_card=card)
        for k in range(1, 4):
            Payout.objects.create(
                contract=contract, due_date=signed + dt.timedelta(days=30 * k), amount=contract.amount / 10
            )

    def _after_sale(self, admin: User) -> None:
        """Care tasks, reminders and tiers from the after-sale daily job, and one campaign draft."""
        from yixiang.aftercare import services_campaigns, tasks

        tasks.daily_run()
        services_campaigns.campaign_create(
            actor=User.objects.get(username="rep1"),
            name="中秋问候",
            template="{name}您好，中秋快乐！感谢一直以来的支持。——{rep}",
            segment={"stages": [5]},
        )

    def _incentives(self, admin: User) -> None:
        """This month's and last month's rows for the incentive scheme, and the new customers."""
        from yixiang.incentives import services as incentives

        this_month = timezone.localdate().replace(day=1)
        last_month = (this_month - dt.timedelta(days=1)).replace(day=1)
        for month in (last_month, this_month):
            for user in User.objects.filter(role__in=[Role.LEAD, Role.REP]):
                threshold = 2 if user.role == Role.LEAD else 1
                incentives.assessment_save(
                    actor=admin, user_id=user.pk, month=month, threshold=threshold, performance_pay=3000
                )
            for director in User.objects.filter(role=Role.DIRECTOR).order_by("username"):
                incentives.assessment_save(actor=admin, user_id=director.pk, month=month, threshold=None,
                                           performance_pay=5000, target=8)  # fmt: skip
            incentives.developed_customers_derive(actor=admin, month=month)

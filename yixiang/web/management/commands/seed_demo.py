"""Load the demo company once: admin; region 华东 (director, two leads, six reps) and region 华南
(director2, lead3, rep7), so a director's scope can be seen; a few hundred customers over every
intent stage and E-class, with follow-ups, stage changes, contracts, payouts and payments.

Idempotent: does nothing when the demo admin already exists. Deterministic (fixed random seed)."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from yixiang.accounts.models import Region, Role, Team, User
from yixiang.aftercare.models import Contract, Payment, Payout
from yixiang.customers import services as customer_services
from yixiang.customers.models import Customer, Grade, Kind, Source
from yixiang.pipeline import rules as pipeline_rules
from yixiang.pipeline import selectors as pipeline_selectors
from yixiang.pipeline.conf import conf as pipeline_conf
from yixiang.pipeline.models import FollowUp, OwnerChange, StageChange

DEMO_PASSWORD = "yixiang-demo"  # noqa: S105 (documented demo password, README warns to change it)

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华建国志强海燕玉兰春梅晓东文静子涵浩然欣怡俊杰雨轩"
CITIES = [("上海", "上海"), ("江苏", "南京"), ("江苏", "苏州"), ("浙江", "杭州"), ("浙江", "宁波"), ("安徽", "合肥")]
INDUSTRIES = ["餐饮", "教育培训", "建材", "汽车服务", "美容美发", "服装", "电子商务", "旅游", "医疗器械", "物流"]
COMPANY_SUFFIX = ["贸易有限公司", "科技有限公司", "餐饮管理有限公司", "商贸行", "实业有限公司"]
HOBBIES = ["钓鱼", "喝茶", "打高尔夫", "旅游", "书法", "摄影", "跑步", "下棋", "养花"]
TAGS = ["老客户介绍", "展会", "价格敏感", "决策人难找", "重点跟进", "已拜访"]
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
        with transaction.atomic():
            reps, admin = self._staff()
            n = 0
            for rep in reps:
                for _ in range(customers_per_rep):
                    self._customer(rnd, rep, admin)
                    n += 1
            for _ in range(pool):
                self._customer(rnd, None, admin)
                n += 1
        with transaction.atomic():
            self._after_sale(admin)
            self._incentives(admin)
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

    def _customer(self, rnd: random.Random, rep: User | None, admin: User) -> Customer:
        stage = rnd.choices([-1, 0, 1, 2, 3, 4, 5], weights=[3, 20, 20, 20, 6, 4, 12])[0]
        if rep is None:
            stage = rnd.choice([-1, 0, 0, 1])
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
                actor=rep or admin, data=data, owner=rep, tags=rnd.sample(TAGS, rnd.choice([0, 1, 2]))
            )
        except customer_services.Conflict:  # a random phone collided: take another
            return self._customer(rnd, rep, admin)
        self._history(rnd, customer, rep, stage)
        return customer

    def _history(self, rnd: random.Random, customer: Customer, rep: User | None, stage: int) -> None:
        now = timezone.now()
        held_days = rnd.randint(20, 150)
        start = now - dt.timedelta(days=held_days)
        if rep is not None:
            OwnerChange.objects.create(
                customer=customer, to_owner=rep, reason=OwnerChange.Reason.CREATED, at=start, by=rep
            )
        path = [0] if stage >= 0 else [-1]
        while stage >= 0 and path[-1] < stage:
            path.append(path[-1] + 1)
        contacts = max(len(path), rnd.randint(2, 6)) if rep else rnd.randint(0, 2)
        cadence = pipeline_conf("CADENCE_DAYS")
        # The latest contact is recent (some customers due today, a few overdue), the rest spread back.
        last_day = held_days - rnd.randint(0, cadence[stage] + 5)
        steps = []
        if contacts:
            steps = sorted(rnd.sample(range(1, last_day), k=max(0, min(contacts - 1, last_day - 1)))) + [last_day]
        current = None
        last_at = None
        author = rep or User.objects.get(username="rep1")
        for i, day in enumerate(steps):
            judged = path[min(len(path) - 1, round(i * (len(path) - 1) / max(1, len(steps) - 1)))]
            at = start + dt.timedelta(days=day, hours=rnd.randint(1, 8))
            fu = FollowUp.objects.create(
                customer=customer, rep=author, at=at, channel=rnd.choice(["phone", "phone", "wechat", "visit"]),
                duration_minutes=rnd.randint(2, 40), effective=rnd.random() > 0.15,
                summary=SUMMARIES[judged], stage_before=current if current is not None else judged,
                stage_after=judged, grade="",
            )  # fmt: skip
            if judged != current:
                StageChange.objects.create(
                    customer=customer,
                    from_stage=current,
                    to_stage=judged,
                    at=at,
                    by=author,
                    owner=rep,
                    follow_up=fu,
                    note=SUMMARIES[judged],
                )
                current = judged
            last_at = at
        grade = ""
        if stage in (3, 4):
            grade = rnd.choice([Grade.A, Grade.B, Grade.C])
        elif stage in (1, 2):
            grade = rnd.choice([Grade.C, Grade.D])
        fields = {"stage": stage, "grade": grade, "held_since": start if rep else None, "last_contact_at": last_at}
        if rep is not None and last_at is not None:
            last_day = timezone.localtime(last_at).date()
            fields["next_due_on"] = pipeline_rules.next_due_on(
                stage=stage, last_effective_contact=last_day, planned_next=None,
                today=timezone.localdate(), cadence=cadence, calendar=pipeline_selectors.due_calendar(last_day),
                slower_shift=pipeline_conf("HOLIDAY_SHIFT_SLOWER"),
            )  # fmt: skip
        if stage == 5:
            signed = last_at or now
            fields["signed_at"] = signed
            self._contract(rnd, customer, rep, timezone.localtime(signed).date())
        Customer.objects.filter(pk=customer.pk).update(**fields)

    def _contract(self, rnd: random.Random, customer: Customer, rep: User | None, signed: dt.date) -> None:
        amount = Decimal(rnd.choice([7950, 12000, 20000, 36000, 50000, 80000]))
        contract = Contract.objects.create(
            customer=customer, name=f"{customer.name} 推广项目", number=f"HT{signed:%Y%m}{customer.pk:05d}",
            start_date=signed, end_date=signed + dt.timedelta(days=365), amount=amount, signed_by=rep,
            payout_card=customer.bank_card or "",
        )  # fmt: skip
        Payment.objects.create(customer=customer, contract=contract, paid_on=signed, amount=amount, recorded_by=rep)
        for k in range(1, 4):
            Payout.objects.create(contract=contract, due_date=signed + dt.timedelta(days=30 * k), amount=amount / 10)

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

"""Ship the source's scheme (seed 002, sample 3) as data.

Two rows: the source itself, dated as it is (2011-03-01 to 2011-12-31), and the same numbers from
2012-01-01 until further notice, so a new installation has a scheme in force. Admins edit both
in the UI (Incentives → Scheme versions)."""

import datetime as dt
from decimal import Decimal

from django.db import migrations

NUMBERS = {
    "valid_floor": 7950,
    "double_floor": 50000,
    "default_threshold": 2,
    "penalties": {"2": [800, 300], "1": [500]},
    "reward_steps": {"2": [[7950, 300], [20000, 500], [50000, 1000]], "1": [[7950, 200], [20000, 400], [50000, 700]]},
    "director_short": 300,
    "director_over": 300,
    "probation_factor": Decimal("0.50"),
    "min_days_on_staff": 21,
    "activity_window": 3,
    "activity_min_active": 2,
    "fraud_person": 3000,
    "fraud_director": 1000,
    # The source only says "total cost must stay within budget"; 10,000 yuan a month is our default.
    "cost_cap": 10000,
    "opening_fund": 0,
    "target_due_day": 6,
    "target_due_time": dt.time(8, 0),
}


def seed(apps, schema_editor):
    SchemeVersion = apps.get_model("incentives", "SchemeVersion")
    if SchemeVersion.objects.exists():
        return
    # Tests call this with today's models too, where later migrations removed cost_cap.
    fields = {f.name for f in SchemeVersion._meta.get_fields()}
    numbers = {k: v for k, v in NUMBERS.items() if k in fields}
    SchemeVersion.objects.create(
        name="关于2011年度客户开发的激励措施（营YXZX(11)-0305）",
        valid_from=dt.date(2011, 3, 1),
        valid_to=dt.date(2011, 12, 31),
        note="超汇实业有限公司营销中心, 2011.4",
        **numbers,
    )
    SchemeVersion.objects.create(
        name="客户开发激励措施（默认，沿用2011年度标准）",
        valid_from=dt.date(2012, 1, 1),
        valid_to=None,
        note="沿用2011年度标准，直到管理员另定新版本的生效日期。",
        **numbers,
    )


def unseed(apps, schema_editor):
    apps.get_model("incentives", "SchemeVersion").objects.filter(
        valid_from__in=[dt.date(2011, 3, 1), dt.date(2012, 1, 1)]
    ).delete()


class Migration(migrations.Migration):
    dependencies = [("incentives", "0001_initial")]

    operations = [migrations.RunPython(seed, unseed)]

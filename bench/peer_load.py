"""Runs INSIDE DjangoCRM's own venv (``bench/peer.py`` starts it): loads Yixiang's bench data set
into DjangoCRM 1.7.0 — one company per customer with its contact person, and for every tracked
customer (owned, stage 0–4) a deal with the request it was made from, owned by the same rep.

    DJANGO_SETTINGS_MODULE=peer_settings <peer venv>/bin/python bench/peer_load.py rows.jsonl

Each input line: {"id", "name", "phone", "city", "owner", "tracked", "stage", "next_due_on"}.
Reps become DjangoCRM sales managers (staff, groups "managers" and the "Local sales" department).
Prints one JSON line with counts. Standard library and Django only (DjangoCRM's venv has no more).
"""

from __future__ import annotations

import datetime as dt
import json
import sys
import time

import django

django.setup()

from crm.models import Company, Contact, Deal, Request  # noqa: E402
from crm.models.others import Stage  # noqa: E402
from django.contrib.auth.models import Group, User  # noqa: E402
from django.db import transaction  # noqa: E402
from django.utils import timezone  # noqa: E402

BATCH = 5000


def main(path: str) -> None:
    started = time.perf_counter()
    rows = [json.loads(line) for line in open(path, encoding="utf-8")]
    managers = Group.objects.get(name="managers")
    local_sales = Group.objects.get(name="Local sales")
    users: dict[str, User] = {}
    for name in sorted({r["owner"] for r in rows if r["owner"]}):
        user, _ = User.objects.get_or_create(username=name, defaults={"is_staff": True, "email": f"{name}@example.com"})
        user.set_password(name)
        user.save()
        user.groups.add(managers, local_sales)
        users[name] = user
    stages = list(Stage.objects.filter(department=local_sales).order_by("index_number")) or list(
        Stage.objects.order_by("index_number")
    )
    today = timezone.localdate()
    companies = deals = 0
    with transaction.atomic():
        for i in range(0, len(rows), BATCH):
            chunk = rows[i : i + BATCH]
            made = Company.objects.bulk_create(
                [
                    Company(
                        full_name=r["name"],
                        phone=r["phone"] or "",
                        city_name=r["city"] or "",
                        email=f"c{r['id']}@example.com",
                        owner=users.get(r["owner"]),
                        department=local_sales,
                    )
                    for r in chunk
                ]
            )
            contacts = Contact.objects.bulk_create(
                [
                    Contact(
                        first_name=r["name"][1:] or r["name"],
                        last_name=r["name"][:1],
                        email=f"p{r['id']}@example.com",
                        phone=r["phone"] or "",
                        company=c,
                        owner=users.get(r["owner"]),
                        department=local_sales,
                    )
                    for r, c in zip(chunk, made, strict=True)
                ]
            )
            tracked = [(r, c, p) for r, c, p in zip(chunk, made, contacts, strict=True) if r["tracked"]]
            requests = Request.objects.bulk_create(
                [
                    Request(
                        request_for="咨询产品",
                        first_name=p.first_name,
                        last_name=p.last_name,
                        email=p.email,
                        phone=p.phone,
                        company_name=c.full_name,
                        company=c,
                        contact=p,
                        owner=users[r["owner"]],
                        department=local_sales,
                        receipt_date=today - dt.timedelta(days=30),
                        pending=False,
                    )
                    for r, c, p in tracked
                ]
            )
            made_deals = Deal.objects.bulk_create(
                [
                    Deal(
                        name=f"{c.full_name} 合作",
                        next_step="电话跟进",
                        next_step_date=dt.date.fromisoformat(r["next_due_on"]) if r["next_due_on"] else today,
                        stage=stages[min(max(r["stage"], 0), len(stages) - 1)],
                        company=c,
                        contact=p,
                        request=q,
                        owner=users[r["owner"]],
                        department=local_sales,
                        ticket=f"T{r['id']:015d}"[-16:],
                    )
                    for (r, c, p), q in zip(tracked, requests, strict=True)
                ]
            )
            for q, d in zip(requests, made_deals, strict=True):
                q.deal = d
            Request.objects.bulk_update(requests, ["deal"])
            companies += len(made)
            deals += len(made_deals)
    print(
        json.dumps(
            {
                "companies": companies,
                "contacts": companies,
                "deals": deals,
                "users": len(users),
                "seconds": round(time.perf_counter() - started, 1),
            }
        )
    )


if __name__ == "__main__":
    main(sys.argv[1])

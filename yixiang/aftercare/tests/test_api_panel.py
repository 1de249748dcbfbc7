"""The customer panel's remaining after-sale actions through the API: same services, scoped."""

from yixiang.aftercare.models import CustomerCare, Gift, LifeEvent, ReferralAsk

from .factories import sign


def test_gift_life_event_care_and_referral_ask(org, api_as):
    customer = sign(org.customer(org.rep, "面板客户"))
    api = api_as(org.rep)
    base = f"/api/v1/customers/{customer.pk}"
    r = api.post(f"{base}/gifts", {"item": "月饼", "cost": "88.00", "given_on": "2026-09-20", "occasion": "中秋"})
    assert r.status_code == 201 and Gift.objects.get().rep == org.rep
    r = api.post(f"{base}/life-events", {"kind": LifeEvent.Kind.values[0], "on": "2026-05-01", "recurring": True})
    assert r.status_code == 201 and LifeEvent.objects.get().recurring
    r = api.patch(f"{base}/care", {"loyalty_level": "loyal", "referrer_type": "honour"})
    assert r.status_code == 200, r.content
    assert r.json()["loyalty_level"] == "loyal" and r.json()["referrer_type"] == "honour"
    # The tier override needs a reason (the service's rule): refused whole, the loyalty level stays.
    r = api.patch(f"{base}/care", {"loyalty_level": "satisfied", "value_tier": "A"})
    assert r.status_code == 400 and r.json()["field"] == "reason"
    assert CustomerCare.objects.get(customer=customer).loyalty_level == "loyal"
    r = api.patch(f"{base}/care", {"value_tier": "A", "value_tier_reason": "大客户"})
    assert r.status_code == 200 and r.json()["tier_override"] == "A"
    r = api.post(f"{base}/referral-asks", {"prerequisites": ["satisfied", "trusts_rep"], "outcome": "gave_names",
                                           "names_given": "李雷"})  # fmt: skip
    assert r.status_code == 201 and ReferralAsk.objects.get().prerequisites == ["satisfied", "trusts_rep"]


def test_panel_routes_are_scoped(org, api_as):
    customer = sign(org.customer(org.rep, "面板客户"))
    base = f"/api/v1/customers/{customer.pk}"
    for user in (org.teammate, org.outsider, org.lead2):
        api = api_as(user)
        assert api.post(f"{base}/gifts", {"item": "花", "cost": "1"}).status_code == 404
        assert api.patch(f"{base}/care", {"loyalty_level": "loyal"}).status_code == 404
        assert api.post(f"{base}/referral-asks", {"outcome": "declined"}).status_code == 404
    assert not Gift.objects.exists() and not ReferralAsk.objects.exists()

"""The apps meet on the pages: panels and badges that one app serves and another shows."""

import pytest

pytestmark = pytest.mark.django_db


def test_customer_page_loads_pipeline_aftercare_and_win_chance(client, org):
    from yixiang.aftercare import services_contracts

    c = org.customer(org.rep, "张三")
    client.force_login(org.rep)
    prospect = client.get(f"/customers/{c.pk}/").content.decode()
    for url in (f"/customers/{c.pk}/pipeline/panel/", f"/reports/customers/{c.pk}/win/"):
        assert f'hx-get="{url}"' in prospect
        assert client.get(url).status_code == 200
    assert f'hx-get="/customers/{c.pk}/aftercare/panel/"' not in prospect  # after-sale panels: signed only
    services_contracts.customer_sign(actor=org.rep, customer=c, amount="7950")
    signed = client.get(f"/customers/{c.pk}/").content.decode()
    assert f'hx-get="/customers/{c.pk}/aftercare/panel/"' in signed
    assert client.get(f"/customers/{c.pk}/aftercare/panel/").status_code == 200


def test_account_page_links_to_digest_settings(client, org):
    client.force_login(org.rep)
    html = client.get("/account/").content.decode()
    assert 'href="/reports/subscriptions/"' in html


def test_rep_home_is_the_agenda(client, org):
    client.force_login(org.rep)
    resp = client.get("/")
    assert resp.status_code == 302 and resp.url == "/agenda/"

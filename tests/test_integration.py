"""The apps meet on the pages: panels and badges that one app serves and another shows."""

import pytest

pytestmark = pytest.mark.django_db


def test_customer_page_loads_pipeline_aftercare_and_win_chance(client, org):
    c = org.customer(org.rep, "张三")
    client.force_login(org.rep)
    html = client.get(f"/customers/{c.pk}/").content.decode()
    for url in (
        f"/customers/{c.pk}/pipeline/panel/",
        f"/customers/{c.pk}/aftercare/panel/",
        f"/reports/customers/{c.pk}/win/",
    ):
        assert f'hx-get="{url}"' in html
        assert client.get(url).status_code == 200


def test_account_page_links_to_digest_settings(client, org):
    client.force_login(org.rep)
    html = client.get("/account/").content.decode()
    assert 'href="/reports/subscriptions/"' in html


def test_rep_home_is_the_agenda(client, org):
    client.force_login(org.rep)
    resp = client.get("/")
    assert resp.status_code == 302 and resp.url == "/agenda/"

"""The statements .xlsx writes any stored text (issue 12, defect 3): a control character in a
customer's name became a 500 for everyone who exported the month."""

from __future__ import annotations

from io import BytesIO

from openpyxl import load_workbook

from yixiang.customers.models import Customer
from yixiang.incentives.tests.test_views_incentives import april, page  # noqa: F401 (april is a fixture)


def test_a_control_character_in_a_customer_name_is_written(april):  # noqa: F811
    Customer.objects.filter(name="丙客户").update(name="丙\u0001客户\u001b")
    resp = page(april.admin, "incentive_statements_xlsx")
    assert resp.status_code == 200
    lines = load_workbook(BytesIO(resp.content)).worksheets[1]
    assert any(r[4] == "丙\ufffd客户\ufffd" for r in lines.iter_rows(min_row=2, values_only=True))

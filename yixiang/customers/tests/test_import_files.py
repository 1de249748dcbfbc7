"""Import: every file format and encoding, Chinese and English headers, and broken files."""

from __future__ import annotations

import codecs
import datetime as dt

import pytest
from django.utils import translation

from yixiang.customers import import_files, importing
from yixiang.customers.models import Customer, CustomerChange, ImportJob
from yixiang.customers.tests.import_helpers import csv_bytes, write_csv, write_xlsx

ZH_ROWS = [
    ["姓名", "手机", "性别", "出生日期", "公司", "城市", "来源", "类型", "标签", "备注"],
    ["张三", "13800138000", "男", "1980/2/3", "甲公司", "北京", "转介绍", "个人", "VIP、老客户", "喜欢喝茶"],
    ["李四", "+86 139-0013-9000", "女", "1990年12月1日", "乙公司", "上海", "活动", "企业", "VIP", ""],
]
EN_ROWS = [
    ["Name", "Phone", "Gender", "Date of birth", "Company", "City", "Source", "Type", "Tags", "Notes"],
    [
        "Zhang San",
        "13800138000",
        "male",
        "1980-02-03",
        "Jia Ltd",
        "Beijing",
        "Referral",
        "individual",
        "VIP, old",
        "tea",
    ],
    ["Li Si", "13900139000", "Female", "1990-12-01", "Yi Ltd", "Shanghai", "event", "company", "VIP", ""],
]


def _run(path, user, **kw) -> ImportJob:
    with translation.override("en"):
        return importing.import_file(path, actor=user, owner=kw.pop("owner", user), **kw)


def _errors(job, kind="error"):
    return [(e["line"], e["reason"]) for e in importing.job_entries(job, kind)]


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030", "utf-16"])
def test_csv_in_every_encoding_with_chinese_headers(org, tmp_path, encoding):
    delimiter = "\t" if encoding == "utf-16" else ","  # Excel's "Unicode text" is tab-separated
    path = write_csv(tmp_path / "客户.csv", ZH_ROWS, encoding=encoding, delimiter=delimiter)
    if encoding == "gbk":  # really what Excel in China writes: no BOM, two bytes per character
        assert path.read_bytes().startswith("姓名".encode("gbk"))
    job = _run(path, org.rep)
    assert job.status == ImportJob.Status.DONE, job.message
    assert (job.processed_rows, job.created_count, job.error_count, job.skipped_count) == (2, 2, 0, 0)
    zhang = Customer.objects.get(name="张三")
    assert zhang.phone == "138 0013 8000" and zhang.phone_normalized == "+8613800138000"
    assert (zhang.gender, zhang.kind, zhang.source) == ("male", "individual", "referral")
    assert zhang.birth_date == dt.date(1980, 2, 3)
    assert (zhang.company_name, zhang.city, zhang.notes) == ("甲公司", "北京", "喜欢喝茶")
    assert sorted(zhang.tags.values_list("name", flat=True)) == ["VIP", "老客户"]
    assert (zhang.name_pinyin, zhang.name_initials) == ("zhangsan", "zs")
    assert zhang.owner == org.rep and zhang.created_by == org.rep
    li = Customer.objects.get(name="李四")
    assert (li.gender, li.kind, li.source, li.birth_date) == ("female", "company", "event", dt.date(1990, 12, 1))
    assert li.phone_normalized == "+8613900139000"
    assert zhang.archive_no != li.archive_no


def test_english_headers_and_labels(org, tmp_path):
    job = _run(write_csv(tmp_path / "en.csv", EN_ROWS), org.rep)
    assert (job.created_count, job.error_count) == (2, 0), job.errors
    zhang = Customer.objects.get(name="Zhang San")
    assert (zhang.gender, zhang.source, zhang.kind, zhang.city) == ("male", "referral", "individual", "Beijing")
    assert sorted(zhang.tags.values_list("name", flat=True)) == ["VIP", "old"]
    assert Customer.objects.get(name="Li Si").kind == "company"


def test_every_mapped_field_and_history_row(org, tmp_path):
    header = [
        "*姓名（必填）", "电话", "邮箱", "微信", "QQ", "首选联系方式", "生日历法", "职业", "收入", "家庭情况",
        "家庭是否支持", "性格", "爱好", "纪念日", "财务状况", "可用资金", "大区", "省份", "地址", "行业",
        "公司规模", "决策人", "关键人", "银行卡号", "身份证号", "客户等级", "预计签约月份", "价值分级",
    ]  # fmt: skip
    row = [
        "王五", "010-12345678", "ww@example.com", "wangwu", "12345", "微信", "农历", "医生", "50万", "已婚",
        "是", "外向", "钓鱼", "结婚纪念日 5月20日", "良好", "1.5万", "华北大区", "河北", "石家庄中山路1号", "医疗",
        "50人", "王总", "李秘书", "6222 0212 3456 1234", "11010519491231002X", "B类", "2025年3月", "A",
    ]  # fmt: skip
    job = _run(write_csv(tmp_path / "all.csv", [header, row]), org.rep)
    assert job.created_count == 1, job.errors
    c = Customer.objects.get(name="王五")
    assert c.phone_normalized == "+861012345678"
    assert (c.email, c.wechat, c.qq, c.preferred_channel, c.birthday_calendar) == (
        "ww@example.com", "wangwu", "12345", "wechat", "lunar",
    )  # fmt: skip
    assert (c.family_supports, str(c.funds_available), c.region, c.province) == (True, "15000.00", org.north, "河北")
    assert (c.grade, c.value_tier, c.expected_sign_month) == ("B", "A", dt.date(2025, 3, 1))
    assert c.bank_card == "6222021234561234" and c.id_number == "11010519491231002X"
    change = CustomerChange.objects.get(customer=c)
    assert change.action == CustomerChange.Action.IMPORT and change.actor == org.rep
    assert change.changes["bank_card"][1] == "6222 **** **** 1234"  # history keeps sensitive values masked
    assert change.changes["region"] == [None, "华北大区"]
    assert change.changes["import"] == [None, "all.csv:2"]
    assert change.changes["owner"] == [None, org.rep.label]


def test_xlsx_with_title_row_merged_cells_formula_and_typed_cells(org, tmp_path):
    rows = [
        ["2024年客户名单", None, None, None, None],
        ["姓名", "电话", "公司", "生日", "城市"],
        ["张三", 13800138000, "甲公司", dt.datetime(1980, 2, 3), "北京"],  # noqa: DTZ001 (Excel cells are naive)
        ["李四", 13900139000, None, dt.date(1990, 1, 1), "北京"],  # company merged down from row 3
        ["王五", "=A3&A4", "丙公司", None, "天津"],  # a formula in the phone column
        [None, None, None, None, None],
        ["赵六", 13700137000.0, "丁公司", None, "=1+1"],  # float phone; formula in a mapped column
    ]
    path = write_xlsx(tmp_path / "客户.xlsx", rows, merges=["A3:E3", "C5:C6"], start_row=3)
    job = _run(path, org.rep)
    assert job.status == ImportJob.Status.DONE, job.message
    assert job.created_count == 2
    assert {c.name: c.company_name for c in Customer.objects.all()} == {"张三": "甲公司", "李四": "甲公司"}
    assert Customer.objects.get(name="张三").birth_date == dt.date(1980, 2, 3)
    errors = _errors(job)
    assert [line for line, _r in errors] == [7, 9]  # sheet row numbers (the sheet starts at row 3)
    assert "B7" in errors[0][1] and "formula" in errors[0][1]
    assert "E9" in errors[1][1]
    warnings = " ".join(r for _l, r in _errors(job, "warning"))
    assert "C5:C6" in warnings and "Merged" in warnings


def test_xlsx_from_the_export_columns_ignores_export_only_columns_and_reads_owner_and_stage(org, tmp_path):
    rows = [
        ["档案编号", "姓名", "电话", "负责人", "意向阶段", "微博"],
        ["KH1", "张三", "13800138000", "rep", "0阶段", "x"],
    ]
    job = _run(write_xlsx(tmp_path / "e.xlsx", rows), org.rep)
    assert job.created_count == 1
    warnings = [r for _l, r in _errors(job, "warning")]
    assert any("微博" in w and "not recognised" in w for w in warnings)
    assert any("档案编号" in w for w in warnings)
    assert not any("负责人" in w or "意向阶段" in w for w in warnings)  # importable since issue 14
    customer = Customer.objects.get()
    assert customer.owner == org.rep and customer.stage == 0


def test_semicolon_csv_and_blank_lines_keep_true_line_numbers(org, tmp_path):
    data = "\r\n\r\n姓名;电话\r\n张三;13800138000\r\n\r\n李四;bad\r\n".encode()
    path = tmp_path / "semi.csv"
    path.write_bytes(data)
    job = _run(path, org.rep)
    assert job.created_count == 1
    assert [line for line, _r in _errors(job)] == [6]


def test_ascii_start_then_gbk_switches_encoding(org, tmp_path, monkeypatch):
    monkeypatch.setattr(import_files, "_SAMPLE_BYTES", 40)  # the sample sees only ASCII
    rows = [["name", "phone"], ["Tom", "13800138000"], ["张三", "13900139000"]]
    job = _run(write_csv(tmp_path / "mix.csv", rows, encoding="gbk"), org.rep)
    assert job.created_count == 2, job.errors
    assert Customer.objects.filter(name="张三").exists()


def test_a_line_in_another_encoding_is_that_rows_error(org, tmp_path):
    data = csv_bytes([["姓名", "电话"], ["张三", "13800138000"]]) + "李四,13900139000\r\n".encode("gbk")
    data += csv_bytes([["王五", "13700137000"]])
    path = tmp_path / "mixed.csv"
    path.write_bytes(data)
    job = _run(path, org.rep)
    assert job.created_count == 2
    [(line, reason)] = _errors(job)
    assert line == 3 and "UTF-8" in reason


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"", "The file is empty."),
        (b"x", "no name column"),
        (codecs.BOM_UTF8 + b"\r\n  \r\n", "The file is empty."),
        (bytes(range(256)) * 4, "not a text file"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, "Old Excel .xls"),
        (b"\x81\x20\xff\xfe\x80" * 50, "neither UTF-8 nor GBK"),
        ("电话,公司\r\n13800138000,甲\r\n".encode(), "no name column"),
    ],
)
def test_unreadable_files_fail_whole_with_a_clear_message(org, tmp_path, content, expected):
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    job = _run(path, org.rep)
    assert job.status == ImportJob.Status.FAILED
    assert expected in job.message
    assert Customer.objects.count() == 0 and CustomerChange.objects.count() == 0


def test_header_only_file(org, tmp_path):
    job = _run(write_csv(tmp_path / "h.csv", [["姓名", "电话"]]), org.rep)
    assert job.status == ImportJob.Status.DONE
    assert job.processed_rows == 0 and "no data rows" in job.message


def test_truncated_csv_reports_the_cut_row(org, tmp_path):
    rows = [["姓名", "电话", "备注"], ["张三", "13800138000", "多行\n备注"], ["李四", "13900139000", "被截断, 的备注"]]
    full = csv_bytes(rows)
    path = tmp_path / "cut.csv"
    path.write_bytes(full[: full.index("被截断".encode()) + 3])  # cut inside the quoted value
    job = _run(path, org.rep)
    assert job.created_count == 1 and Customer.objects.get().notes == "多行\n备注"
    [(line, reason)] = _errors(job)
    assert line == 4 and "cut off" in reason  # lines 2-3 are the first record (a line break inside quotes)

    path.write_bytes(full[: full.index(b"13900139000")])  # cut after a separator: too few columns
    job = _run(path, org.rep)
    [(line, reason)] = _errors(job)
    assert line == 4 and "of 3 columns" in reason

    plain = csv_bytes([*rows[:2], ["李四", "13900139000", "被截断的备注"]])
    path.write_bytes(plain[: plain.index("截断".encode())])  # cut inside an unquoted value: a warning names it
    job = _run(path, org.rep)
    assert job.error_count == 0 and job.created_count == 1
    assert Customer.objects.get(name="李四").notes == "被"
    [(line, reason)] = _errors(job, "warning")
    assert line == 4 and "cut off" in reason

    job = _run(write_csv(tmp_path / "whole.csv", rows), org.rep)  # the whole file: no such warning
    assert _errors(job, "warning") == []


def test_truncated_xlsx_fails_without_writing(org, tmp_path):
    path = write_xlsx(tmp_path / "cut.xlsx", [["姓名", "电话"], ["张三", "13800138000"]])
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    job = _run(path, org.rep)
    assert job.status == ImportJob.Status.FAILED and "damaged or incomplete" in job.message
    assert Customer.objects.count() == 0


def test_xlsx_named_csv_is_read_as_xlsx(org, tmp_path):
    path = write_xlsx(tmp_path / "x.xlsx", [["姓名", "电话"], ["张三", "13800138000"]])
    renamed = path.rename(tmp_path / "actually.csv")
    assert _run(renamed, org.rep).created_count == 1

import pytest

from yixiang.customers import rules


@pytest.mark.parametrize(
    "raw",
    ["13800138000", "138 0013 8000", "138-0013-8000", "+86 138 0013 8000", "008613800138000", "+8613800138000"],
)
def test_cn_mobile_forms_share_one_key(raw):
    assert rules.normalize_phone(raw) == "+8613800138000"


def test_landline_with_area_code():
    assert rules.normalize_phone("010-12345678") == "+861012345678"


@pytest.mark.parametrize("raw", ["", "12", "abc", "1380013800012345678"])
def test_not_a_phone(raw):
    with pytest.raises(rules.PhoneError):
        rules.normalize_phone(raw)


def test_display_phone_groups_mobile_digits():
    assert rules.display_phone("+8613800138000") == "138 0013 8000"


@pytest.mark.parametrize(
    ("name", "full", "initials"),
    [
        ("张三", "zhangsan", "zs"),
        ("欧阳娜娜", "ouyangnana", "oynn"),
        ("李A明", "liaming", "lam"),
        ("Tom 王", "tomwang", "tw"),
    ],
)
def test_pinyin_keys(name, full, initials):
    assert rules.pinyin_keys(name) == (full, initials)


def test_archive_number_format():
    assert rules.format_archive_no("KH{year}{seq:06d}", year=2026, seq=42) == "KH2026000042"


def test_qualification_score_counts_known_items_only():
    score = rules.qualification_score("company", ["cash_flow", "credit_record", "bogus"])
    assert (score.ticked, score.total) == (2, 7)
    assert score.percent == 29


@pytest.mark.parametrize(("q", "kind"), [("138", "phone"), ("138-0013", "phone"), ("zs", "pinyin"), ("张", "text")])
def test_classify_query(q, kind):
    assert rules.classify_query(q) == kind


def test_list_bounds_per_customer():
    from yixiang.customers import rules as r

    assert not r.too_many(["a"] * r.MAX_TAGS, r.MAX_TAGS)
    assert r.too_many(["a"] * (r.MAX_TAGS + 1), r.MAX_TAGS)
    assert not r.too_many("x" * 100, 3)  # only lists count

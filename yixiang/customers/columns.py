"""The customer columns of a spreadsheet: one table serves the importer's header matching and the
exporter's headers, so an exported file imports again; choice values read and written in Chinese or
English."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from django.utils import translation

from yixiang.customers.models import BirthdayCalendar, Channel, Gender, Grade, Kind, Source, ValueTier
from yixiang.customers.stages import Stage


@dataclass(frozen=True)
class Column:
    field: str  # a name in services.EDITABLE_FIELDS, or "tags"
    zh: str
    en: str
    aliases: tuple[str, ...] = ()


COLUMNS: tuple[Column, ...] = (
    Column("name", "姓名", "Name", ("名称", "客户名称", "客户姓名", "客户", "customer", "customer name", "full name")),
    Column("kind", "类型", "Type", ("客户类型", "kind", "customer type")),
    Column(
        "phone",
        "电话",
        "Phone",
        (
            "手机",
            "手机号",
            "手机号码",
            "联系电话",
            "电话号码",
            "移动电话",
            "mobile",
            "tel",
            "telephone",
            "phone number",
            "cell",
        ),
    ),  # fmt: skip
    Column("email", "邮箱", "Email", ("电子邮箱", "电子邮件", "邮件", "mail")),
    Column("wechat", "微信", "WeChat", ("微信号",)),
    Column("qq", "QQ", "QQ", ("qq号", "qq号码")),
    Column("preferred_channel", "首选联系方式", "Preferred channel", ("偏好渠道", "联系方式偏好")),
    Column("gender", "性别", "Gender", ("sex",)),
    Column("birth_date", "出生日期", "Date of birth", ("生日", "出生年月日", "birthday", "dob")),
    Column("birthday_calendar", "生日历法", "Birthday calendar", ("历法", "公历/农历")),
    Column("occupation", "职业", "Occupation", ("工作", "job")),
    Column("income", "收入", "Income", ("年收入", "月收入")),
    Column("family_situation", "家庭情况", "Family situation", ("家庭",)),
    Column("family_supports", "家庭是否支持", "Family supports", ("家庭支持",)),
    Column("personality", "性格", "Personality", ()),
    Column("hobbies", "爱好", "Hobbies", ("兴趣爱好", "兴趣", "喜好")),
    Column("special_days", "纪念日", "Special days", ("特殊日子", "重要日子")),
    Column("financial_situation", "财务状况", "Financial situation", ("经济状况",)),
    Column("funds_available", "可用资金", "Funds available", ("可投资金",)),
    Column("region", "大区", "Region", ("区域",)),
    Column("province", "省份", "Province", ("省",)),
    Column("city", "城市", "City", ("市",)),
    Column("address", "地址", "Address", ("详细地址", "联系地址")),
    Column("source", "来源", "Source", ("客户来源",)),
    Column("company_name", "公司", "Company", ("公司名称", "单位", "单位名称", "企业名称", "employer")),
    Column("industry", "行业", "Industry", ("所属行业",)),
    Column("company_size", "公司规模", "Company size", ("规模", "企业规模")),
    Column("decision_maker", "决策人", "Decision-maker", ("决策者",)),
    Column("key_people", "关键人", "Key people", ("关键人物",)),
    Column("bank_card", "银行卡号", "Bank card", ("银行卡", "收款卡号")),
    Column("id_number", "身份证号", "ID number", ("身份证", "身份证号码")),
    Column("grade", "客户等级", "Grade", ("等级",)),
    Column("expected_sign_month", "预计签约月份", "Expected signing month", ("预计签约",)),
    Column("value_tier", "价值分级", "Value tier", ("价值等级",)),
    Column("tags", "标签", "Tags", ("tag",)),
    Column("notes", "备注", "Notes", ("说明", "remark", "remarks", "note", "comments")),
    # Set only within the importer's scope (owner) and recorded as a judgment (stage): issue 14.
    Column("owner", "负责人", "Owner", ("所属销售", "跟进人", "销售", "归属人")),
    Column("stage", "意向阶段", "Intent stage", ("阶段", "意向", "stage")),
    Column(
        "next_due_on",
        "下次联系日期",
        "Next contact",
        ("下次联系", "下次跟进", "下次跟进日期", "下次联系时间", "next contact date", "next_due_on"),
    ),
)

# Columns the export writes that an import ignores on purpose (they are not the importer's to set).
EXPORT_ONLY_COLUMNS: tuple[Column, ...] = (
    Column("archive_no", "档案编号", "Archive number"),
    Column("created_at", "创建时间", "Created"),
)

_HEADER_JUNK = re.compile(r"[\s_\-*:：·./]+")
_TRAILING_NOTE = re.compile(r"[(（][^)）]*[)）]$")


def header_key(text: Any) -> str:
    """'*手机号码（必填）' -> '手机号码', 'E-mail' -> 'email', 'birth_date' -> 'birthdate'."""
    s = str(text or "").replace("\ufeff", "").strip()
    s = _TRAILING_NOTE.sub("", s)
    return _HEADER_JUNK.sub("", s).casefold()


def _build_aliases() -> dict[str, str]:
    out: dict[str, str] = {}
    for col in COLUMNS + EXPORT_ONLY_COLUMNS:
        for text in (col.field, col.zh, col.en, *col.aliases):
            out.setdefault(header_key(text), col.field)
    return out


HEADER_ALIASES = _build_aliases()

# Choice values, first Chinese label first (the export writes it); model values and English labels
# are added below, so "male", "Male" and "男" all import.
CHOICE_LABELS_ZH: dict[str, dict[str, tuple[str, ...]]] = {
    "kind": {
        Kind.INDIVIDUAL: ("个人", "个人客户", "自然人", "person", "personal"),
        Kind.COMPANY: ("企业", "公司", "企业客户", "公司客户", "单位", "机构", "business", "enterprise"),
    },
    "gender": {
        Gender.MALE: ("男", "男性", "先生", "m"),
        Gender.FEMALE: ("女", "女性", "女士", "f"),
        Gender.UNKNOWN: ("未知", "不详"),
    },
    "preferred_channel": {
        Channel.PHONE: ("电话", "手机"),
        Channel.SMS: ("短信",),
        Channel.WECHAT: ("微信",),
        Channel.EMAIL: ("邮件", "邮箱", "电子邮件"),
        Channel.QQ: ("QQ",),
        Channel.VISIT: ("拜访", "上门", "面谈"),
    },
    "birthday_calendar": {
        BirthdayCalendar.SOLAR: ("公历", "阳历", "新历"),
        BirthdayCalendar.LUNAR: ("农历", "阴历", "旧历"),
    },
    "source": {
        Source.REFERRAL: ("转介绍", "介绍", "推荐", "老客户介绍"),
        Source.EVENT: ("活动", "会销", "展会", "会议"),
        Source.DATABASE: ("数据库", "资料库"),
        Source.FRONT_DESK: ("前台到访", "前台", "到访", "来访"),
        Source.PHONE_DUTY: ("电话值班", "来电", "热线"),
        Source.PURCHASED_LIST: ("购买名单", "购买"),
        Source.COMPETITOR_LIST: ("竞品名单", "同行名单", "竞争对手名单"),
        Source.PARTNER: ("合作渠道", "渠道", "合作伙伴"),
        Source.OTHER: ("其他", "其它"),
    },
    "grade": {g: (g.value, f"{g.value}类", f"{g.value}级") for g in Grade},
    "value_tier": {t: (t.value, f"{t.value}类", f"{t.value}级") for t in ValueTier},
}
CHOICE_ENUMS = {
    "kind": Kind,
    "gender": Gender,
    "preferred_channel": Channel,
    "birthday_calendar": BirthdayCalendar,
    "source": Source,
    "grade": Grade,
    "value_tier": ValueTier,
}


def _build_choice_maps() -> dict[str, dict[str, str]]:
    maps: dict[str, dict[str, str]] = {}
    with translation.override("en"):
        for fname, enum in CHOICE_ENUMS.items():
            m: dict[str, str] = {}
            for value, label in enum.choices:
                for text in (value, str(label), *CHOICE_LABELS_ZH[fname].get(value, ())):
                    if text:
                        m.setdefault(str(text).strip().casefold(), value)
            maps[fname] = m
    return maps


CHOICE_MAPS = _build_choice_maps()


# The stage as a file writes it: the export's labels (0阶段 … E类（已签约）), bare digits, 拒绝, E.
STAGE_LABELS_ZH: dict[int, tuple[str, ...]] = {
    Stage.REJECTING: ("拒绝", "拒绝阶段", "-1", "rejecting", "refuses"),
    **{s: (f"{s.value}阶段", str(s.value), f"{s.value}级", f"{s.value}类") for s in Stage if 0 <= s.value <= 4},
    Stage.SIGNED: ("E类（已签约）", "E", "E类", "E类客户", "已签约", "签约", "signed", "signed (e)"),
}


def _build_stage_map() -> dict[str, int]:
    m: dict[str, int] = {}
    with translation.override("en"):
        for value, label in Stage.choices:
            for text in (str(label), *STAGE_LABELS_ZH[value]):
                m.setdefault(stage_key(text), int(value))
    return m


def stage_key(text: str) -> str:
    """'E类(已签约)', 'e类（已签约）' and ' 0 阶段' read the same."""
    return "".join(str(text).split()).casefold().replace("（", "(").replace("）", ")")


STAGE_MAP = _build_stage_map()


def stage_label(value: int, *, chinese: bool) -> str:
    if chinese:
        return STAGE_LABELS_ZH[value][0]
    with translation.override("en"):
        return str(Stage(value).label)


def choice_label(fname: str, value: str, *, chinese: bool) -> str:
    """The label an export writes for a choice value (it imports back to the same value)."""
    if not value:
        return ""
    if chinese:
        labels = CHOICE_LABELS_ZH[fname].get(value)
        if labels:
            return labels[0]
    with translation.override("en"):
        return str(dict(CHOICE_ENUMS[fname].choices).get(value, value))


def bool_label(value: bool | None, *, chinese: bool) -> str:
    if value is None:
        return ""
    if chinese:
        return "是" if value else "否"
    return "Yes" if value else "No"

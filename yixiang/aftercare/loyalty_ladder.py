"""The loyalty ladder (客户服务阶梯) of seed 003, as data and plain rules (no ORM).

Eight levels, best first, each with the seed's name and level title, its three columns (whom the
customer tells, whether it refers, whether it buys again), and — below the lowest acceptable
level — the recovery action the product suggests (the seed names the levels, not the actions:
product defaults). A customer climbs one level at a time, each step on evidence (a note); it may
fall any distance at once."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


@dataclass(frozen=True)
class Rung:
    code: str
    name_zh: str  # the seed's name, shown as it is
    title_zh: str  # the seed's level title (顶阶 … 一塌糊涂)
    tells: str
    refers: str
    buys_again: str
    recovery: str  # "" at and above the lowest acceptable level


LADDER: tuple[Rung, ...] = (
    Rung("loyal", "忠诚的", "顶阶", _("everyone"), pgettext_lazy("refers", "everyone"), _("always"), ""),
    Rung("very_satisfied", "非常满意的", "中阶", _("a few"), _("some"), _("sometimes"), ""),
    Rung(
        "satisfied",
        "满意的",
        "最底阶",
        _("maybe, if asked"),
        _("maybe, if someone asks"),
        _("maybe, if convenient"),
        "",
    ),
    Rung(
        "indifferent",
        "无动于衷的",
        "地下一阶",
        _("no one"),
        _("probably not"),
        _("maybe or maybe not"),
        _("Ask about results and share useful news without selling: give the customer a reason to care."),
    ),
    Rung(
        "unhappy",
        "不悦",
        "警铃阶",
        _("10 people or more"),
        _("certainly not"),
        _("perhaps in some years"),
        _("Call at once: listen, find the cause, record it as a complaint and resolve it."),
    ),
    Rung(
        "wronged",
        "做错事",
        "错误阶",
        _("25 people or more"),
        _("not one"),
        _("only if forced"),
        _("Admit the mistake, put it right and visit in person."),
    ),
    Rung(
        "angry",
        "生气",
        "笨蛋阶",
        _("anyone who listens"),
        _("laughs at the idea"),
        _("never"),
        _("The lead visits with the rep: apologise, resolve, and follow up until it is closed."),
    ),
    Rung(
        "complaining",
        "告状",
        "一塌糊涂",
        _("the whole city"),
        _("“buy from anyone but them”"),
        _("never"),
        _(
            "Handle it as a dispute: the lead takes charge until it is resolved; each dispute handled well can win an old customer."
        ),
    ),
)
CODES: tuple[str, ...] = tuple(r.code for r in LADDER)
# 满意的 is the lowest acceptable level (可被接受的最低限度); 无动于衷的 is already below it.
LOWEST_ACCEPTABLE = "satisfied"

CLIMB_TOO_FAR = "too_far"
CLIMB_NO_EVIDENCE = "no_evidence"


def rung(code: str) -> Rung | None:
    return next((r for r in LADDER if r.code == code), None)


def height(code: str) -> int:
    """0 for the bottom level (告状) … 7 for 忠诚的."""
    return len(CODES) - 1 - CODES.index(code)


def is_acceptable(code: str) -> bool:
    return bool(code) and height(code) >= height(LOWEST_ACCEPTABLE)


def recovery_action(code: str) -> str:
    """What to do for a customer below the lowest acceptable level ("" otherwise)."""
    r = rung(code)
    return str(r.recovery) if r else ""


def climb_problem(*, current: str, new: str, note: str) -> str | None:
    """A customer climbs one level at a time, each step on evidence; falling is not limited.

    The first assessment (no level yet) may be any level. Returns 'too_far' for a jump of more
    than one level up, 'no_evidence' for a step up without a note, else None."""
    if not current or new == current or height(new) < height(current):
        return None
    if height(new) - height(current) > 1:
        return CLIMB_TOO_FAR
    if not note.strip():
        return CLIMB_NO_EVIDENCE
    return None

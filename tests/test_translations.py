"""Chinese first: every catalogue is fully translated, and the compiled .mo matches its .po."""

from __future__ import annotations

import ast
import gettext
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent / "yixiang"
CATALOGUES = sorted(ROOT.glob("**/locale/zh_Hans/LC_MESSAGES/django.po"))


def parse_po(path: Path) -> list[tuple[str | None, str, str, bool]]:
    """(context, msgid, msgstr, fuzzy) for each entry; plural forms report their first msgstr."""
    entries, ctx, mid, mstr, fuzzy, field = [], None, None, None, False, None

    def flush():
        if mid is not None:
            entries.append((ctx, mid, mstr or "", fuzzy))

    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("#,") and "fuzzy" in line:
            fuzzy = True
        elif line.startswith("msgctxt "):
            flush()
            ctx, mid, mstr, field = ast.literal_eval(line[8:]), None, None, "ctx"
        elif line.startswith("msgid "):
            if field != "ctx":
                flush()
                ctx = None
            mid, mstr, field = ast.literal_eval(line[6:]), None, "id"
        elif line.startswith(("msgstr ", "msgstr[0] ")):
            mstr, field = ast.literal_eval(line.split(" ", 1)[1]), "str"
        elif line.startswith("msgid_plural") or line.startswith("msgstr["):
            field = "skip"
        elif line.startswith('"'):
            text = ast.literal_eval(line)
            if field == "id":
                mid += text
            elif field == "str":
                mstr += text
            elif field == "ctx":
                ctx += text
        elif not line.strip():
            flush()
            ctx, mid, mstr, fuzzy, field = None, None, None, False, None
    flush()
    return [e for e in entries if e[1]]


def test_there_are_catalogues():
    assert len(CATALOGUES) >= 6


@pytest.mark.parametrize("po", CATALOGUES, ids=lambda p: str(p.relative_to(ROOT)))
def test_catalogue_complete_and_compiled(po):
    entries = parse_po(po)
    assert entries
    missing = [mid for _, mid, mstr, _ in entries if not mstr]
    fuzzy = [mid for _, mid, _, f in entries if f]
    assert not missing, f"untranslated: {missing[:5]}"
    assert not fuzzy, f"fuzzy: {fuzzy[:5]}"
    with open(po.with_suffix(".mo"), "rb") as fh:
        compiled = gettext.GNUTranslations(fh)
    stale = []
    for ctx, mid, mstr, _ in entries:
        got = compiled.pgettext(ctx, mid) if ctx else compiled.gettext(mid)
        if got != mstr:
            stale.append(mid)
    assert not stale, f".mo is older than .po (run `make messages`): {stale[:5]}"


def repeated_chunk(text: str) -> str | None:
    """The chunk that `text` is 2+ copies of (a merge that tripled a translation), else None.

    Chunks of one character are allowed so that "QQ" or "哈哈" stay legal."""
    n = len(text)
    for copies in range(2, n // 2 + 1):
        if n % copies == 0 and text[: n // copies] * copies == text:
            return text[: n // copies]
    return None


def test_repeated_chunk_detects_tripled_text():
    assert repeated_chunk("大区完成 7 个；" * 3) == "大区完成 7 个；"
    assert repeated_chunk("abcabc") == "abc"
    assert repeated_chunk("QQ") is None
    assert repeated_chunk("大区完成 7 个") is None


@pytest.mark.parametrize("po", CATALOGUES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_translation_repeats_itself(po):
    repeated = [(mid, mstr) for _, mid, mstr, _ in parse_po(po) if mstr != mid and repeated_chunk(mstr)]
    assert not repeated, f"msgstr made of one chunk repeated: {repeated[:3]}"


def addressed_to_a_customer(msgid: str) -> bool:
    """Messages a rep sends to a customer ("%(name)s, happy birthday…") speak politely (您)."""
    return msgid.startswith(("%(name)s", "%(referrer)s", "%(greeting)s", "Happy birthday", "Wishing"))


def test_the_interface_says_ni_and_only_customer_messages_say_nin():
    """The interface addresses its user one way (你); 您 is kept for what is sent to customers."""
    polite = [
        (po.parent.parent.parent.parent.name, mid)
        for po in CATALOGUES
        for _, mid, mstr, _ in parse_po(po)
        if "您" in mstr and not addressed_to_a_customer(mid)
    ]
    assert not polite, f"interface text with 您 (use 你): {polite[:5]}"

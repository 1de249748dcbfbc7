"""The cached pinyin keys (per name and per word, taken for bulk-import speed) are exactly
pypinyin's uncached result, phrases, polyphonic surnames and mixed scripts included."""

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pypinyin import Style, lazy_pinyin

from yixiang.customers import rules


def pinyin_keys_uncached(name: str) -> tuple[str, str]:
    """The reference the cached path must equal: pypinyin called plainly on the whole name."""
    syllables = [s.lower() for s in lazy_pinyin(name or "", style=Style.NORMAL, errors="default")]
    full = rules._NON_ALNUM.sub("", "".join(syllables))
    initials = "".join(s[0] for s in (rules._NON_ALNUM.sub("", s) for s in syllables) if s)
    return full, initials


# Common and polyphonic surnames, characters that start phrases, Latin letters, digits, punctuation.
pieces = st.sampled_from(
    ["张", "王", "李", "单", "曾", "解", "朴", "区", "仇", "长", "重庆", "银行", "行", "乐", "音乐", "了", "和",
     "平", "中国", "国", "人", "A", "b", "Li", "3", " ", "-", "·", "（", "有限公司", "科技", "发", "展", "会"]
)  # fmt: skip
cjk = st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF)


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(pieces, cjk), max_size=6).map("".join))
def test_cached_pinyin_keys_equal_pypinyin(name):
    assert rules.pinyin_keys(name) == pinyin_keys_uncached(name)
    assert rules.pinyin_keys(name) == pinyin_keys_uncached(name)  # a cache hit, same answer


def test_repeated_names_each_get_their_own_keys():
    # Names come back many times in an import, interleaved: each time the name's own keys.
    expected = {"张三": ("zhangsan", "zs"), "李四": ("lisi", "ls"), "王小明": ("wangxiaoming", "wxm")}
    for name in ["张三", "李四", "张三", "王小明", "李四", "张三"]:
        assert rules.pinyin_keys(name) == expected[name]

"""The cached pinyin keys (per name and per word, taken for bulk-import speed) are exactly
pypinyin's uncached result, phrases, polyphonic surnames and mixed scripts included."""

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from yixiang.customers import rules

# Common and polyphonic surnames, characters that start phrases, Latin letters, digits, punctuation.
pieces = st.sampled_from(
    ["张", "王", "李", "单", "曾", "解", "朴", "区", "仇", "长", "重庆", "银行", "行", "乐", "音乐", "了", "和",
     "平", "中国", "国", "人", "A", "b", "Li", "3", " ", "-", "·", "（", "有限公司", "科技", "发", "展", "会"]
)  # fmt: skip
cjk = st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF)


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(pieces, cjk), max_size=6).map("".join))
def test_cached_pinyin_keys_equal_pypinyin(name):
    assert rules.pinyin_keys(name) == rules.pinyin_keys_uncached(name)
    assert rules.pinyin_keys(name) == rules.pinyin_keys_uncached(name)  # a cache hit, same answer


def test_cache_is_shared_across_repeated_names():
    rules._pinyin_keys.cache_clear()
    for _ in range(3):
        assert rules.pinyin_keys("单田芳") == rules.pinyin_keys_uncached("单田芳")
    assert rules._pinyin_keys.cache_info().hits == 2

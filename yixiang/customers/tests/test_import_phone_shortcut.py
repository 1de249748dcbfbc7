"""The CN-mobile shortcut in rules.normalize_phone/display_phone (taken for bulk-import speed) gives
exactly what the general phonenumbers path gives."""

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from yixiang.customers import rules

separators = st.sampled_from(["", " ", "-"])
prefixes = st.sampled_from(["", "+86", "+86 ", "+86-", "0086", "0086 "])
# ASCII digits (a regex's \d would also draw other scripts' digits, which the shortcut leaves to
# phonenumbers); cheap draws, so a loaded machine does not trip Hypothesis' too_slow check.


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(
    prefix=prefixes,
    head=st.integers(130, 199).map(str),
    mid=st.integers(0, 9999).map("{:04d}".format),
    tail=st.integers(0, 9999).map("{:04d}".format),
    sep1=separators,
    sep2=separators,
)
def test_cn_mobile_shortcut_matches_phonenumbers(prefix, head, mid, tail, sep1, sep2):
    raw = f"{prefix}{head}{sep1}{mid}{sep2}{tail}"
    text = "+" + raw[2:] if raw.startswith("00") else raw
    fast = rules.normalize_phone(raw)
    assert fast == rules._normalize_general(text, "CN")
    assert rules.display_phone(fast) == rules._display_general(fast)


def test_shortcut_leaves_other_numbers_to_phonenumbers():
    assert rules.normalize_phone("010-12345678") == "+861012345678"
    assert rules.display_phone("+861012345678") == rules._display_general("+861012345678")
    assert rules.normalize_phone("+1 202 555 0123") == "+12025550123"
    # Without +86 a foreign default region does not take the CN shortcut.
    assert rules.normalize_phone("2025550123", "US") == "+12025550123"
    assert rules.normalize_phone("13800138000", "US") == rules._normalize_general("13800138000", "US")

"""The agenda's order, the E-class hint and the tracked-list balance."""

from yixiang.pipeline import rules

TARGETS = {"0": 20, "1-2": 40, "3-4": 10}


def test_agenda_puts_3_4_first_then_1_2_then_0_then_e():
    items = [(5, 9, "E客户"), (0, 1, "零"), (2, 0, "二"), (4, 0, "四"), (1, 5, "一"), (3, 2, "三")]
    ordered = sorted(items, key=lambda i: rules.agenda_sort_key(stage=i[0], overdue=i[1], name=i[2]))
    assert [s for s, _o, _n in ordered] == [3, 4, 1, 2, 0, 5]


def test_within_a_band_the_most_overdue_comes_first():
    a = rules.agenda_sort_key(stage=3, overdue=1, name="甲")
    b = rules.agenda_sort_key(stage=4, overdue=6, name="乙")
    assert sorted([a, b]) == [b, a]


def test_e_class_contacts_are_suggested_after_four_pm():
    assert rules.suggest_after(5, "16:00") == "16:00"
    assert rules.suggest_after(3, "16:00") is None


def test_bands():
    assert [rules.band(s) for s in (-1, 0, 1, 2, 3, 4, 5)] == ["rejecting", "0", "1-2", "1-2", "3-4", "3-4", "E"]


def test_a_balanced_list_is_ok_in_every_band():
    out = rules.tracked_balance({0: 20, 1: 25, 2: 15, 3: 6, 4: 4, 5: 99}, TARGETS, 0.25)
    assert [(b.band, b.count, b.status) for b in out] == [("0", 20, "ok"), ("1-2", 40, "ok"), ("3-4", 10, "ok")]


def test_out_of_balance_bands_say_low_or_high():
    out = {b.band: b.status for b in rules.tracked_balance({0: 60, 1: 10, 3: 10}, TARGETS, 0.25)}
    assert out == {"0": "high", "1-2": "low", "3-4": "ok"}


def test_tolerance_edges_are_inside():
    # 20 ± 25 % → 15 and 25 are still fine, 14 and 26 are not.
    status = lambda n: rules.tracked_balance({0: n}, {"0": 20}, 0.25)[0].status  # noqa: E731
    assert [status(n) for n in (14, 15, 25, 26)] == ["low", "ok", "ok", "high"]

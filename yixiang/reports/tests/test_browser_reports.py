"""The report pages in a real browser: the ECharts charts are drawn, with a size, on desktop and phone."""

from __future__ import annotations

import os
import tempfile

import pytest
from django.utils import timezone

from yixiang.reports.tests import data

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]

SHOTS = os.environ.get("YIXIANG_SCREENSHOTS", tempfile.gettempdir())


def drawn_charts(page) -> list[dict]:
    """Each chart's size and whether ECharts put an <svg> with shapes in it."""
    return page.eval_on_selector_all(
        "[data-chart]",
        """els => els.map(el => {
            const svg = el.querySelector('svg');
            const box = svg ? svg.getBoundingClientRect() : {width: 0, height: 0};
            return {kind: el.dataset.chart, rendered: el.dataset.rendered === 'true',
                    width: box.width, height: box.height,
                    shapes: svg ? svg.querySelectorAll('path, rect, text').length : 0};
        })""",
    )


def test_pipeline_report_draws_its_charts(org, page, login):
    data.build(org)
    login(org.lead1)
    page.goto("/reports/?from=2025-01-01&to=2025-02-28&date=2025-01-31")
    page.wait_for_selector("[data-chart='funnel'][data-rendered='true'] svg")
    charts = drawn_charts(page)
    assert {c["kind"] for c in charts} == {"funnel", "bands", "conversion", "durations", "winrates"}
    for c in charts:
        assert c["rendered"] and c["width"] > 100 and c["height"] > 100 and c["shapes"] > 5, c
    # The past date's figures: on 31 Jan the lead's team had 甲 and 丁 at stage 2 (column 4 after the name).
    assert "2025-01-31" in page.locator("#funnel-card h2").inner_text()
    assert page.locator("#funnel-table tr.row-total td").nth(4).inner_text() == "2"
    page.screenshot(path=os.path.join(SHOTS, "h6-reports-pipeline.png"), full_page=True)

    # Changing a filter reloads the figures for that rep.
    page.select_option("#id_rep", str(org.rep.pk))
    page.click("#report-filters button[type=submit]")
    page.wait_for_selector("[data-chart='funnel'][data-rendered='true'] svg")
    names = page.locator("#funnel-table td.name-cell").all_inner_texts()
    assert not any("teammate" in n for n in names)


def test_other_report_pages_draw_on_a_phone(org, page, login):
    data.build(org)
    data.build_aftercare(org, timezone.localdate())
    page.set_viewport_size({"width": 390, "height": 844})
    login(org.director)
    for path, kinds in (
        ("/reports/activity/?from=2025-01-06&to=2025-02-16", {"calls", "accuracy"}),
        ("/reports/aftercare/", {"tiers", "pareto", "loyalty", "costs"}),
    ):
        page.goto(path)
        page.wait_for_selector("[data-chart][data-rendered='true'] svg")
        charts = drawn_charts(page)
        assert {c["kind"] for c in charts} == kinds
        for c in charts:
            assert c["rendered"] and 300 < c["width"] <= 390 and c["height"] > 100 and c["shapes"] > 3, c
        # Nothing wider than the phone's screen.
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=os.path.join(SHOTS, "h6-reports-aftercare-phone.png"), full_page=True)
    page.goto("/reports/activity/?from=2025-01-06&to=2025-02-16")
    page.wait_for_selector("[data-chart][data-rendered='true'] svg")
    page.screenshot(path=os.path.join(SHOTS, "h6-reports-activity-phone.png"), full_page=True)


def test_aftercare_page_on_a_desktop(org, page, login):
    data.build_aftercare(org, timezone.localdate())
    login(org.lead1)
    page.goto("/reports/aftercare/")
    page.wait_for_selector("[data-chart='pareto'][data-rendered='true'] svg")
    # Ten customers, the top two (20 %) bring 130,000 of 163,500: 80 %.
    assert "80%" in page.locator("#pareto-card").inner_text()
    assert "HT-100" in page.inner_text("main")
    page.screenshot(path=os.path.join(SHOTS, "h6-reports-aftercare.png"), full_page=True)


def test_weekly_report_prints_on_one_page(org, page, login):
    data.build(org)
    login(org.lead1)
    page.goto(f"/reports/weekly/?week=2025-01-20&team={org.n1.pk}")
    assert "2025-01-20" in page.locator("#weekly-sheet").inner_text()
    page.screenshot(path=os.path.join(SHOTS, "h6-reports-weekly.png"), full_page=True)
    page.emulate_media(media="print")
    assert not page.locator(".topbar").is_visible()
    assert not page.locator("#report-filters").is_visible()
    pdf = page.pdf(format="A4", print_background=True)
    # One A4 page: the PDF has a single /Type /Page object.
    assert pdf.count(b"/Type /Page\n") + pdf.count(b"/Type /Page>") + pdf.count(b"/Type /Page ") == 1


def test_digest_and_calendar_page(org, page, login):
    login(org.rep)
    page.goto("/reports/subscriptions/")
    page.click("#make-calendar-link")
    url = page.input_value("#feed-url")
    assert url.endswith(".ics") and "/calendar/" in url
    page.screenshot(path=os.path.join(SHOTS, "h6-reports-subscriptions.png"), full_page=True)
    response = page.request.get(url)
    assert response.status == 200 and response.text().startswith("BEGIN:VCALENDAR")
    page.once("dialog", lambda d: d.accept())
    page.click("#calendar-settings button.btn-danger")
    page.wait_for_load_state()
    assert page.request.get(url).status == 404


def test_the_period_fields_show_and_keep_the_default_period(org, page, login):
    """The browser accepts the server's date values (ISO), so a re-submit keeps the period (issue 14)."""
    login(org.lead1)
    page.goto("/reports/activity/")
    shown = page.eval_on_selector_all("#report-filters input[type=date]", "els => els.map(e => [e.name, e.value])")
    default = page.eval_on_selector_all(
        "#report-filters input[type=date]", "els => els.map(e => [e.name, e.getAttribute('value')])"
    )
    assert shown == default and all(value for _, value in shown), shown  # the browser kept every value
    page.select_option("#id_unit", "month")
    page.click("#report-filters button[type=submit]")
    page.wait_for_load_state()
    assert f"from={shown[0][1]}" in page.url and f"to={shown[1][1]}" in page.url
    again = page.eval_on_selector_all("#report-filters input[type=date]", "els => els.map(e => [e.name, e.value])")
    assert again == shown

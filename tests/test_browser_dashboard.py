"""Editors in a real browser: charts that draw and read the same everywhere, honest examples."""

from __future__ import annotations

import re

import pytest
from selenium.webdriver.common.by import By

from moderation.pages.charts import SENTIMENT_COLOURS
from tests.browsing import (
    DESKTOP,
    PHONE,
    brand_lines,
    fresh,
    log_in,
    page_width,
    small_targets,
    unlabelled_controls,
    visit,
)

pytestmark = pytest.mark.browser
SIZES = pytest.mark.parametrize("size", [DESKTOP, PHONE], ids=["desktop", "phone"])

FONT_SIZES = """
return [...document.querySelectorAll('figure.chart svg text')].map((t) =>
  parseFloat(getComputedStyle(t).fontSize) * t.getScreenCTM().a);
"""


def open_dashboard(site, browser, size=DESKTOP) -> None:
    fresh(browser, site, size)
    log_in(browser, site, "eddie")
    visit(browser, site.url("/editor"), "Editors' dashboard")


def test_one_day_of_data_draws_a_visible_point_per_topic(site, browser):
    open_dashboard(site, browser)  # the demo comments all arrived today
    assert len(browser.find_elements(By.CSS_SELECTOR, "#trend-table tbody tr")) == 1
    dots = browser.find_elements(By.CSS_SELECTOR, "figure.chart circle")
    assert len(dots) == 5
    assert all(dot.rect["width"] >= 6 and dot.is_displayed() for dot in dots)


@SIZES
def test_chart_text_has_one_legible_size_and_plain_words(site, browser, size):
    open_dashboard(site, browser, size)
    sizes = browser.execute_script(FONT_SIZES)
    assert sizes and min(sizes) >= 11 and max(sizes) <= 16
    assert max(sizes) / min(sizes) < 1.05
    text = browser.find_element(By.TAG_NAME, "body").text
    assert "x: number of comments" not in text and "compound" not in text.lower()
    assert "Average tone" in text


def test_topic_colours_differ_from_sentiment_colours(site, browser):
    open_dashboard(site, browser)
    charts = browser.find_elements(By.CSS_SELECTOR, "figure.chart")
    topic_fills = {r.get_attribute("fill") for r in charts[0].find_elements(By.CSS_SELECTOR, "rect")}
    assert topic_fills and not topic_fills & set(SENTIMENT_COLOURS.values())


def test_representative_comments_fit_their_list_appear_once_and_give_sample_sizes(site, browser):
    open_dashboard(site, browser)
    section = browser.find_element(By.CSS_SELECTOR, "section.representatives")
    assert re.search(r"\(\d+ approved comments?\)", section.text)
    for heading in section.find_elements(By.TAG_NAME, "h4"):
        assert re.search(r"\d+ shown of \d+ (positive|negative|approved)", heading.text)
    seen_per_topic: dict[str, list[str]] = {}
    topic = None
    for node in section.find_elements(By.CSS_SELECTOR, "h3, h4, li"):
        if node.tag_name == "h3":
            topic = node.text.split()[0]
        elif node.tag_name == "h4":
            kind = node.text
        else:
            link = node.find_element(By.TAG_NAME, "a").get_attribute("href")
            seen_per_topic.setdefault(topic, []).append(link)
            tone = re.search(r"\(tone ([+-]\d\.\d\d)\)", node.text)
            if kind.startswith("Most positive"):
                assert float(tone.group(1)) > 0
            if kind.startswith("Most negative"):
                assert float(tone.group(1)) < 0
    assert seen_per_topic
    assert all(len(links) == len(set(links)) for links in seen_per_topic.values())


@SIZES
def test_the_dashboard_fits_the_screen_with_large_targets(site, browser, size):
    open_dashboard(site, browser, size)
    assert page_width(browser) <= size[0]
    assert brand_lines(browser) == 1
    assert unlabelled_controls(browser) == []
    if size == PHONE:
        assert small_targets(browser) == []

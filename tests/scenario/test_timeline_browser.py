"""timeline.html in a real browser (headless Chromium): from the DOM, no two labels
overlap, every message has its mark and its row, the page fits the window (zoom
widens only the track's own scroll box), findings and the failed step are marked,
and the page loads nothing from anywhere."""

import pytest

from rtsock_emul.scenario.artifacts import timeline_html
from rtsock_emul.scenario.loader import load_text
from rtsock_emul.scenario.runner import Runner
from rtsock_emul.scenario.schema import parse_scenario

from . import browser
from .inproc import InProcessLab
from .test_junit import _leak_one_underlying_message
from .test_oracle import FAILURE

_, WHY = browser.find()
pytestmark = pytest.mark.skipif(WHY is not None, reason=WHY or "")

# a failover whose second expectation is wrong (net1 never fails), run with M16 broken
WRONG_FAILOVER = FAILURE + """\
  - expect:
      aware: {match: ordered, messages: [RTM_IFINFO net1 +FAILED]}
    within: 300ms
"""

OVERLAPS = """
const boxes = sel => [...document.querySelectorAll(sel)].map(e => [e.textContent, e.getBoundingClientRect()]);
const hit = (a, b) => a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;
const out = [];
for (const sel of ['#track .sl', '#track .m', '#track .tick']) {
  const bs = boxes(sel);
  bs.forEach(([ta, a], i) => bs.slice(i + 1).forEach(([tb, b]) => { if (hit(a, b)) out.push(ta + ' / ' + tb) }));
}
return out;
"""
FACTS = """
const s = document.querySelector('#scroll').getBoundingClientRect(), t = document.querySelector('#track');
const outside = [...document.querySelectorAll('#track .sl, #track .m, #track .tick')].filter(e => {
  const r = e.getBoundingClientRect(); return r.left < t.getBoundingClientRect().left - 0.5
    || r.right > t.getBoundingClientRect().right + 0.5 }).map(e => e.textContent);
return {page: document.documentElement.scrollWidth, window: window.innerWidth,
        track: t.getBoundingClientRect().width, box: s.width, outside: outside,
        marks: [...document.querySelectorAll('#track .m')].map(e => e.textContent),
        rows: [...document.querySelectorAll('#list tr.msg')].map(e => e.dataset.i),
        legend: [...document.querySelectorAll('#legend .key')].map(e => e.textContent),
        findings: document.querySelectorAll('#track .m.finding').length,
        diffs: document.querySelectorAll('#track .m.diff').length,
        badStep: [...document.querySelectorAll('#track .sl.bad')].map(e => e.textContent),
        loaded: performance.getEntriesByType('resource').length};
"""


@pytest.fixture(scope="module")
def page(tmp_path_factory, request):
    tmp = tmp_path_factory.mktemp("timeline")
    mp = pytest.MonkeyPatch()
    _leak_one_underlying_message(mp)
    try:
        path = tmp / "f.scenario.yaml"
        path.write_text(WRONG_FAILOVER)
        sc = parse_scenario(load_text(WRONG_FAILOVER, str(path)), str(path))
        res = Runner(sc, "sim", lab_start=InProcessLab, reports_dir=tmp / "rep").run()
    finally:
        mp.undo()
    assert res.failure is not None and res.violations, "the run should fail its step 3 and break M16"
    # two reads in the same millisecond (they happen under load): give the aware
    # socket's first two reads one time, so they must still get two marks
    aware = res.streams.by_sub["aware"]
    aware[1].t = aware[0].t
    html = tmp / "timeline.html"
    html.write_text(timeline_html(res))
    records = sum(len(v) for v in res.streams.by_sub.values())
    with browser.Browser(1024, 700) as b:
        b.open(html)
        yield b, res, records, html


def test_labels_never_overlap_and_every_message_is_listed(page):
    b, res, records, html = page
    assert b.js(OVERLAPS) == []
    facts = b.js(FACTS)
    labels = b.js("return D.msgs.map(m => m.label)")
    assert len(labels) == records and sorted(facts["marks"]) == sorted(labels)
    assert sorted(map(int, facts["rows"])) == list(range(records))
    assert "IFINFO net0 -RUNNING" in labels and "IFINFO net0 +FAILED" in labels
    assert facts["page"] <= facts["window"], "the page is wider than the window"
    assert facts["outside"] == [], "labels cut off at the track's ends"
    assert facts["loaded"] == 0 and "http" not in html.read_text().replace("http-equiv", "")


def test_findings_failed_step_and_legend_are_shown(page):
    b, res, records, html = page
    facts = b.js(FACTS)
    assert facts["findings"] >= 1                                # M16's leaked message
    line = WRONG_FAILOVER.splitlines().index("  - expect:", len(FAILURE.splitlines())) + 1
    assert facts["badStep"] and facts["badStep"][0].startswith(f"3: expect (line {line})")
    assert {"IFINFO", "step", "failed step", "oracle finding", "first difference"} <= set(facts["legend"])
    assert "M16" in b.js("return document.querySelector('#findings').textContent")


def test_zoom_widens_the_track_not_the_page(page):
    b, res, records, html = page
    before = b.js(FACTS)
    assert abs(before["track"] - before["box"]) < 1, "fit to window at first"
    b.js("document.querySelector('#zoom button[data-z=\"2\"]').click();"
         "document.querySelector('#zoom button[data-z=\"2\"]').click()")
    zoomed = b.js(FACTS)
    assert abs(zoomed["track"] - 4 * zoomed["box"]) < 2
    assert zoomed["page"] <= zoomed["window"]
    assert b.js(OVERLAPS) == [] and zoomed["outside"] == []
    b.js("document.querySelector('#zoom button[data-z=\"0\"]').click()")
    assert abs(b.js(FACTS)["track"] - before["box"]) < 1

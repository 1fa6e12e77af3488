"""The HTML timeline (timeline.html), checked in a real browser.

Headless Chromium through chromedriver (Debian's chromium, chromium-driver
and python3-selenium) opens the page a real run wrote, from disk. From the
DOM: one row per shard, one bar per unit that ran, with its label and
result, the critical path on the shard that ended last; hovering a bar and
tabbing through the list both show a unit's details. The page must make no
network request (Resource Timing and Chromium's performance log) and log no
console error. A screenshot is saved in the test's temp folder; with
SHARDRUN_UPDATE_DOCS=1 it also replaces docs/timeline.png.

A page of 10,000 units (a made-up run.json) is loaded too: every bar is
drawn, and its load time is printed (pytest -s) to measure it, not asserted
beyond a bound that only a pathological slowdown would pass.
"""
import json
import os
import shutil
import subprocess
import tempfile

import pytest

from conftest import BIN, FIXTURES, ROOT

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

WAIT = 60  # seconds: the machine is loaded
FLAGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--no-first-run", "--window-size=1280,720", "--hide-scrollbars"]


@pytest.fixture
def browser(tmp_path):
    # scripts/install-deps.sh installs them: no skip, a missing browser fails
    profile = tempfile.mkdtemp(prefix="chromium-profile-", dir=tmp_path)
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    drv = webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=options)
    try:
        drv.set_page_load_timeout(WAIT)
        drv.set_script_timeout(WAIT)
        yield drv
    finally:
        drv.quit()


def open_page(driver, path):
    """Loads the page; returns (load event ms, drawn ms) from navigation timing."""
    driver.get_log("performance")  # drop the browser's own start-up (its new tab page)
    driver.get_log("browser")
    driver.get(path.as_uri())
    WebDriverWait(driver, WAIT).until(
        lambda d: d.execute_script("return document.readyState === 'complete' && !!window.timelineRendered"))
    return driver.execute_script("""
        const nav = performance.getEntriesByType('navigation')[0];
        return [nav.loadEventEnd, window.timelineRendered];""")


def network_requests(driver, page):
    """Requests the page made besides loading itself: Resource Timing entries
    and Network.requestWillBeSent events of Chromium's performance log for
    this document (the log also holds Chromium's own pages, such as a new
    tab's chrome://resources/..., which a loaded machine may still be
    fetching when the page opens)."""
    urls = driver.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            params = message["params"]
            url = params["request"]["url"]
            if params.get("documentURL") == page.as_uri() and url != page.as_uri():
                urls.append(url)
    return urls


def console_errors(driver):
    return [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]


def test_the_timeline_of_a_real_run_in_chromium(shardrun, browser, tmp_path):
    r = shardrun("-j", "3", FIXTURES / "timeline" / "suite.yaml")
    assert r.code == 1, r  # one unit fails, one times out
    run_dir = r.run_dir()
    page = run_dir / "timeline.html"
    assert f"timeline: {page}" in r.out.splitlines()[-1]
    run = json.loads((run_dir / "run.json").read_text())
    ran = [u for u in run["units"] if u["shard"] >= 0]
    assert len(ran) == 10 and run["shards"] == 3

    load_ms, drawn_ms = open_page(browser, page)
    assert network_requests(browser, page) == []
    assert console_errors(browser) == []

    rows = browser.execute_script(
        "return [...document.querySelectorAll('.row')].map(r => r.dataset.shard)")
    assert rows == ["0", "1", "2"]
    bars = browser.execute_script("""
        return [...document.querySelectorAll('rect.bar')].map(b =>
            [b.closest('.row').dataset.shard, b.dataset.label, b.dataset.result,
             b.classList.contains('crit')])""")
    assert sorted((int(s), label, result) for s, label, result, _ in bars) == \
        sorted((u["shard"], u["label"], u["result"]) for u in ran)
    assert {result for _, _, result, _ in bars} == {"passed", "failed", "timeout"}
    # the critical path: every unit of the shard whose last unit ended last
    last = max(ran, key=lambda u: u["end"])["shard"]
    assert sorted(label for s, label, _, crit in bars if crit) == \
        sorted(u["label"] for u in ran if u["shard"] == last)
    # each shard's resources, setup and teardown spans are drawn in their row
    spans = browser.execute_script("""
        return [...document.querySelectorAll('rect.span')].map(s =>
            s.closest('.row').dataset.shard + ' ' + [...s.classList].filter(c => c.startsWith('s-'))[0])""")
    for shard in ("0", "1", "2"):
        for kind in ("s-resource", "s-setup", "s-teardown"):
            assert f"{shard} {kind}" in spans, spans
    stats = browser.find_element(By.CSS_SELECTOR, ".run .stats:nth-of-type(2)").text
    assert "lower bound" in stats and "critical path: shard %d" % last in stats, stats

    # hover: the unit's label, tests, predicted vs actual, exit status, log
    timeout = next(u for u in ran if u["result"] == "timeout")
    bar = browser.find_element(By.CSS_SELECTOR, f'rect.bar[data-label="{timeout["label"]}"]')
    ActionChains(browser).move_to_element(bar).perform()
    tip = browser.find_element(By.ID, "tip")
    WebDriverWait(browser, WAIT).until(lambda d: tip.is_displayed())
    for text in (timeout["label"], "timeout", "predicted", "actual", timeout["log"],
                 timeout["status"]["description"]):
        assert text in tip.text, tip.text
    # the picture: every row, a unit's details (hovered on the last row, so
    # that they cover no other row), the list still closed
    on_last = [u for u in ran if u["shard"] == 2]
    shown = max(on_last, key=lambda u: (u["result"] != "passed", u["end"] - u["start"]))
    ActionChains(browser).move_to_element(
        browser.find_element(By.CSS_SELECTOR, f'rect.bar[data-label="{shown["label"]}"]')).perform()
    WebDriverWait(browser, WAIT).until(lambda d: shown["log"] in tip.text)
    shot = tmp_path / "timeline.png"
    browser.save_screenshot(str(shot))
    assert shot.stat().st_size > 10_000
    if os.environ.get("SHARDRUN_UPDATE_DOCS") == "1":
        shutil.copy(shot, ROOT / "docs" / "timeline.png")

    # keyboard: the list opens from its summary, each row is a tab stop
    ActionChains(browser).move_to_element(browser.find_element(By.TAG_NAME, "h1")).perform()
    assert not tip.is_displayed()  # off the bars, the tooltip goes
    summary = browser.find_element(By.CSS_SELECTOR, "#list summary")
    browser.execute_script("arguments[0].focus()", summary)
    ActionChains(browser).send_keys(Keys.ENTER).perform()
    WebDriverWait(browser, WAIT).until(
        lambda d: len(d.find_elements(By.CSS_SELECTOR, "#units tbody tr")) == len(run["units"]))
    ActionChains(browser).send_keys(Keys.TAB).perform()
    focused = browser.switch_to.active_element
    assert focused.tag_name == "tr"
    first = run["units"][int(focused.get_attribute("data-u").split(":")[1])]
    assert first["label"] in tip.text and "log: " + first["log"] in tip.text, tip.text
    assert browser.execute_script("return document.querySelectorAll('rect.hl').length") == 1

    assert console_errors(browser) == []
    assert network_requests(browser, page) == []
    browser.save_screenshot(str(tmp_path / "timeline-list.png"))
    print(f"\ntimeline of {len(ran)} units: load event {load_ms:.0f} ms, drawn at {drawn_ms:.0f} ms; "
          f"screenshot {shot}")

    # the check for console errors is not blind: an error is seen
    browser.execute_script("console.error('seen')")
    assert [e["message"] for e in console_errors(browser) if "seen" in e["message"]]


def made_up_run(units, shards):
    """A run.json of `units` units of 1 to 3 s back to back on `shards` shards."""
    ends = [0.5] * shards
    out = []
    for i in range(units):
        shard = min(range(shards), key=lambda s: ends[s])
        seconds = 1 + (i * 7919 % 2000) / 1000
        result = "failed" if i % 97 == 0 else "passed"
        out.append({"id": i, "label": f"unit#{i}", "entry": "e", "shard": shard, "start": ends[shard],
                    "end": ends[shard] + seconds, "result": result, "tests": [f"t{i}"],
                    "log": f"/runs/r/logs/{i:05d}.log", "predicted_seconds": seconds,
                    "actual_seconds": seconds, "status": {"description": "exit status 0"}})
        ends[shard] += seconds
    spans = [{"shard": s, "spans": [{"kind": "setup", "start": 0, "end": 0.5, "outcome": "ok", "commands": 1}]}
             for s in range(shards)]
    total = sum(u["end"] - u["start"] for u in out)
    longest = max(u["end"] - u["start"] for u in out)
    bound = max(total / shards, longest)
    balance = {"makespan": max(ends) - 0.5, "sum": total, "longest": longest, "lower_bound": bound,
               "ratio": (max(ends) - 0.5) / bound}
    return {"format": 1, "suite": "big", "run_id": f"big-{units}", "shards": shards, "elapsed": max(ends),
            "exit_code": 1, "totals": {"tests": units}, "balance": balance, "units": out, "shard_spans": spans}


@pytest.mark.parametrize("units", [100, 10_000])
def test_a_timeline_of_many_units_draws_every_bar(browser, tmp_path, units):
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    (run_dir / "run.json").write_text(json.dumps(made_up_run(units, 16)))
    p = subprocess.run([str(BIN), "timeline", str(run_dir), "-o", str(tmp_path / "t.html")],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    assert p.stdout == f"timeline: {tmp_path / 't.html'}\n"
    load_ms, drawn_ms = open_page(browser, tmp_path / "t.html")
    assert browser.execute_script("return document.querySelectorAll('rect.bar').length") == units
    # the critical path is the shard that ended last, marked under each of its units
    last = max(made_up_run(units, 16)["units"], key=lambda u: u["end"])["shard"]
    marks = browser.execute_script(
        "return [...document.querySelectorAll('rect.critmark')].map(m => m.closest('.row').dataset.shard)")
    assert set(marks) == {str(last)} and len(marks) == sum(
        1 for u in made_up_run(units, 16)["units"] if u["shard"] == last)
    assert browser.execute_script("return document.querySelectorAll('.row').length") == 16
    assert console_errors(browser) == []
    browser.save_screenshot(str(tmp_path / f"timeline-{units}.png"))
    size = (tmp_path / "t.html").stat().st_size
    print(f"\n{units} units: {size / 1e6:.2f} MB, load event {load_ms:.0f} ms, drawn at {drawn_ms:.0f} ms")
    assert load_ms < 30_000  # seconds would mean something quadratic


def test_timeline_of_two_runs_side_by_side_and_bad_input(shardrun, tmp_path):
    for name, units in (("a", 5), ("b", 7)):
        (tmp_path / name).mkdir()
        (tmp_path / name / "run.json").write_text(json.dumps(made_up_run(units, 2)))
    p = subprocess.run([str(BIN), "timeline", str(tmp_path / "a"), str(tmp_path / "b")],
                       capture_output=True, text=True, cwd=tmp_path, timeout=60)
    assert p.returncode == 0, p.stderr
    html = (tmp_path / "timeline.html").read_text()
    data = html.split('<script type="application/json" id="runs">')[1].split("</script>")[0]
    assert [len(r["units"]) for r in json.loads(data)] == [5, 7]
    # one run: beside its run.json
    p = subprocess.run([str(BIN), "timeline", str(tmp_path / "a")], capture_output=True, text=True, timeout=60)
    assert p.returncode == 0 and (tmp_path / "a" / "timeline.html").exists()
    p = subprocess.run([str(BIN), "timeline", str(tmp_path / "missing")], capture_output=True, text=True)
    assert p.returncode == 2 and "no run.json there" in p.stderr, p.stderr


def test_the_network_check_sees_a_request_the_page_makes(browser, tmp_path):
    # The control for network_requests(): a page of our own that loads an
    # image from a closed loopback port must be caught, by Resource Timing
    # or by the performance log's entry for this document.
    page = tmp_path / "control.html"
    page.write_text('<!doctype html><img src="http://127.0.0.1:9/pixel.png">'
                    '<script>window.timelineRendered = 1;</script>')
    open_page(browser, page)
    assert "http://127.0.0.1:9/pixel.png" in network_requests(browser, page)

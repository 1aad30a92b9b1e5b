"""The inspector's app (`/app`) in Debian's Chromium on a 3G-like network (issue 14): a cold
first load, a warm start offline, a save to the outbox, a sync of 20 reports with a photo
each, and what the app weighs on the wire.

    .venv/bin/python bench/app_bench.py                  # flask run on SQLite + SpatiaLite (as `make run`)
    .venv/bin/python bench/app_bench.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/bazres_test_appbench

The server is a process of its own on a fresh database (tests/live.py's servers: `flask run`,
or gunicorn with 2 workers × 4 threads on PostGIS, the database emptied first), with a city
rule that every office must be open all day, so that the visit list has stops whatever the
hour. Each repeat is a new phone (a new browser context: no cache, no service worker, no
IndexedDB) of another district's inspector, at 360 × 740. "3G" is the page's network
emulated through CDP (`Network.emulateNetworkConditions`: 400 kbit/s down and up, 400 ms
added to each request):

1. cold first load, 3G: from navigation start to `#login-form` shown and the app started
   (`body[data-ready]`);
2. log in and sync without emulation (not measured), the service worker in control; then
   the network cut (`context.set_offline`), the worker stopped (as the browser stops an
   idle one), the tab closed and `/app/#/visits` opened again: navigation start to
   `#stops li` shown;
3. still offline, reports saved to the outbox: `window.bazres.saveReport(fields)` timed with
   `performance.now()` in the page (all reports but the last), then the last one through the
   form: from the tap on "save" to `#screen-outbox` shown, with the others held;
4. the network back, 3G: the sync the app starts itself on the `online` event, from that
   event to `body[data-sync=done]`, by stage, with the bytes sent and received (headers and
   bodies, from Playwright's requests).

The photos are the tests' camera pictures (tests/app/phone.py `camera_jpeg`, 2400 × 1800)
given to a file input, as a camera gives them, and put through the app's own `takePhoto`
(shrunk to 1600 px, JPEG 0.82, hashed, kept in IndexedDB; its module imported in the page):
the bytes sent are the app's, without 20 trips through the form per repeat (the form's own
path is step 3's last save). The reports are all "open", so that no run depends on the
hour's judging.

Times are taken in the page on its performance.now() clock, by a script added before any of
the app's (a MutationObserver noting when each element is first laid out and visible);
medians over the repeats (the in-page saves: over all of them). The emulation is the page's:
the service worker's own downloads (its install) are not slowed, while all the page sends
is, the sync included (the worker never answers the API). Neither server compresses: the
cold load moves the files as they are. Beside each time, the browser's peak memory, summed
over its processes (RSS and PSS, sampled every 0.2 s from /proc; psutil is not in the venv).
Last, the size of everything the service worker keeps (the `FILES` of `/app/sw.js`, and
sw.js itself), text gzipped at level 6 as a proxy would send it, PNG and WOFF2 as they are:
the shell, the fonts and Leaflet apart.
"""

import argparse
import gzip
import json
import os
import re
import statistics
import sys
import tempfile
import threading
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from playwright.sync_api import sync_playwright  # noqa: E402

from bench.harness import Server, fresh_database  # noqa: E402
from tests.app.phone import CHROMIUM, CHROMIUM_ARGS, PASSWORD, Phone, camera_jpeg, mandate_all_day, near  # noqa: E402
from tests.live import FlaskRun, LiveServer  # noqa: E402

KBIT = 1000 / 8  # bytes per second in a kbit/s
THREE_G = {"offline": False, "latency": 400, "downloadThroughput": 400 * KBIT, "uploadThroughput": 400 * KBIT}
UNLIMITED = {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1}
INSPECTORS = [f"inspector-{district}a" for district in range(1, 23)]
GOALS = {"warm": 1.0, "save": 0.100, "shell": 300 * 1024}
WAIT_MS = 900_000

# Marks in the page, before any of the app's scripts runs, on its performance.now() clock:
# when each watched element is first laid out and visible (the "saved" toast comes once the
# report's transaction is committed), when the app is started, the tap on "save", the
# `online` event and each stage of a sync (body[data-sync]). While `__bench.hold` is set,
# `online` events are kept from the app (see Repeat.sync).
MARKS = """(() => {
  const marks = {}, stages = [];
  const watched = { login: "#login-form", stops: "#stops li", saved: "#toast.ok", outbox: "#screen-outbox" };
  const shown = (el) => el !== null && el.getClientRects().length > 0 && getComputedStyle(el).visibility !== "hidden";
  const look = () => {
    for (const [name, selector] of Object.entries(watched)) {
      if (!(name in marks) && shown(document.querySelector(selector))) marks[name] = performance.now();
    }
    if (!("ready" in marks) && document.body?.dataset.ready === "1") marks.ready = performance.now();
    const stage = document.body?.dataset.sync;
    if (stage && stage !== stages.at(-1)?.[0]) stages.push([stage, performance.now()]);
  };
  new MutationObserver(look).observe(document, { subtree: true, childList: true, attributes: true });
  addEventListener("online", (e) => {
    if (window.__bench.hold) {  // kept from the app's listener, which was added after this one
      e.stopImmediatePropagation();
      return;
    }
    marks.online = performance.now();
    stages.length = 0;
  });
  addEventListener("click", (e) => { if (e.target.closest?.("#save")) marks.tap = performance.now(); }, true);
  window.__bench = { marks, stages };
})();"""

# One report saved as the form would save it, its photo first taken through the app's own
# pipeline (photos.js, resolved by the page's import map to the app's module) from a file
# input, as the camera gives it; only saveReport is timed.
SAVE = """async ({ office, n }) => {
  const { takePhoto } = await import("/static/app/js/photos.js");
  const { isoWithOffset } = await import("/static/app/js/fa.js");
  const now = isoWithOffset(new Date());
  const photo = await takePhoto(document.getElementById("bench-camera").files[0], now);
  const [lon, lat] = office.location.coordinates;
  const fields = { office_id: office.id, round_id: null, observed_at: now, gps_fix_at: now,
    location: { type: "Point", coordinates: [lon, lat + 0.0002] }, accuracy_m: 8, office_state: "open",
    staff_present: 2, checklist: { hours_sign: true, manager_present: true, systems_online: true,
      citizens_served: true }, notes: `bench ${n}`, photos: [photo] };
  const began = performance.now();
  await window.bazres.saveReport(fields);
  const ms = performance.now() - began;
  return { ms, size: (await window.bazres.store.photos.get(photo.sha256)).size };
}"""
CAMERA = """() => document.body.append(Object.assign(document.createElement("input"),
  { type: "file", id: "bench-camera", hidden: true }))"""


# ---------------------------------------------------------------- the browser's memory


def browser_pids() -> list[int]:
    """Chromium's processes among this script's descendants (the server's are not Chromium)."""
    parents = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parents[int(entry.name)] = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
    family, grown = {os.getpid()}, True
    while grown:
        children = {pid for pid, parent in parents.items() if parent in family} - family
        family |= children
        grown = bool(children)
    out = []
    for pid in family - {os.getpid()}:
        try:
            if os.readlink(f"/proc/{pid}/exe").startswith("/usr/lib/chromium/"):
                out.append(pid)
        except OSError:
            continue
    return out


def _kb(path: str, key: str) -> int:
    for line in Path(path).read_text().splitlines():
        if line.startswith(key):
            return int(line.split()[1])
    return 0


@dataclass
class Memory:
    """Summed over the browser's processes. RSS counts a shared page once in every process
    that maps it (Chromium's binary and shared memory: most of the sum); PSS splits it
    among them, so the PSS sum is what the browser as a whole holds."""

    rss: int = 0
    pss: int = 0

    def grow(self, other: "Memory") -> None:
        self.rss, self.pss = max(self.rss, other.rss), max(self.pss, other.pss)


def browser_memory() -> Memory:
    now = Memory()
    for pid in browser_pids():
        try:
            now.rss += _kb(f"/proc/{pid}/status", "VmRSS:") * 1024
            now.pss += _kb(f"/proc/{pid}/smaps_rollup", "Pss:") * 1024
        except OSError:  # a process that just ended
            continue
    return now


class BrowserMemory(threading.Thread):
    """Samples the browser's memory every `every` seconds (a sample costs about 10 ms of
    one core); `with memory.peak() as peak:` keeps the highest samples taken in the block."""

    def __init__(self, every: float = 0.2):
        super().__init__(daemon=True)
        self.every, self.halt, self.lock = every, threading.Event(), threading.Lock()
        self.open: list[Memory] = []

    def sample(self) -> None:
        now = browser_memory()
        with self.lock:
            for peak in self.open:
                peak.grow(now)

    def run(self) -> None:
        while not self.halt.wait(self.every):
            self.sample()

    @contextmanager
    def peak(self):
        window = Memory()
        with self.lock:
            self.open.append(window)
        self.sample()  # a block shorter than a sampling period still gets two
        try:
            yield window
        finally:
            self.sample()
            with self.lock:
                self.open.remove(window)


# ---------------------------------------------------------------- the server


def start_server(database_url: str | None, workdir: Path) -> tuple[LiveServer, Callable[[], None], str]:
    """`flask run` on a fresh SQLite file, or gunicorn on the PostGIS database named (emptied)."""
    attachments = workdir / "attachments"
    attachments.mkdir(parents=True)
    log_path = workdir / "server.log"
    if database_url:
        fresh_database(database_url)  # the first migration creates the postgis extension
        server = Server(database_url, attachments, workers=2, threads=4, log_path=log_path)
        label = "PostGIS, gunicorn (2 workers × 4 threads)"
    else:
        database_url = f"sqlite:///{workdir / 'bench.sqlite'}"
        server = FlaskRun(database_url, attachments, log_path)
        label = "SQLite + SpatiaLite, flask run"
    try:
        server.start()
    except BaseException:
        server.stop()
        raise
    return LiveServer(server.url, database_url, attachments, log_path, server.pids), server.stop, label


# ---------------------------------------------------------------- one phone, one repeat


class Finished(list):
    """Requests as they finish: a listener for Playwright's `requestfinished`."""

    def __call__(self, request) -> None:
        self.append(request)


def traffic(requests: list, keep: Callable) -> tuple[int, int]:
    """(bytes sent, bytes received), headers and bodies, over the finished requests kept."""
    up = down = 0
    for request in filter(keep, requests):
        sizes = request.sizes()
        # Playwright has no body size for a Blob (a photo's piece): its Content-Length then.
        body = sizes["requestBodySize"] or int(request.all_headers().get("content-length", 0))
        up += sizes["requestHeadersSize"] + body
        down += sizes["responseHeadersSize"] + sizes["responseBodySize"]
    return up, down


class Repeat:
    """One new phone (a browser context of its own) through the four steps."""

    def __init__(self, browser, live: LiveServer, username: str, memory: BrowserMemory):
        self.live, self.memory = live, memory
        self.phone = Phone(browser, live, username, f"bench-{username}")
        self.phone.context.add_init_script(MARKS)
        self.session = None  # the page's CDP session, for its network emulation
        self.errors: list[str] = []
        self.phone.context.on("weberror", lambda error: self.errors.append(str(error.error)))
        self.times: dict[str, float] = {}  # seconds
        self.saves: list[float] = []  # seconds, each saveReport in the page
        self.peaks: dict[str, Memory] = {}  # the browser's, per step
        self.traffic: dict[str, tuple[int, int]] = {}  # (bytes up, bytes down)
        self.photo_bytes: list[int] = []

    @property
    def page(self):
        return self.phone.page

    def marks(self) -> dict:
        return self.page.evaluate("() => window.__bench.marks")

    def emulate(self, conditions: dict) -> None:
        """The page's network, through a CDP session of its own: a second hand on it besides
        Playwright's set_offline, and which one wins is not documented, so the offline steps
        run on a page without it; detaching it would clear both, so it stays until its page
        closes."""
        if self.session is None:
            self.session = self.phone.context.new_cdp_session(self.page)
        self.session.send("Network.emulateNetworkConditions", conditions)

    @contextmanager
    def step(self, name: str):
        """The browser's peak memory during the block, kept under `name`."""
        with self.memory.peak() as peak:
            yield
        self.peaks[name] = peak

    def run(self, photos: list[Path]) -> "Repeat":
        first_visit = Finished()
        self.phone.context.on("requestfinished", first_visit)
        try:
            self.cold_load()
            self.log_in()
            self.phone.context.remove_listener("requestfinished", first_visit)
            shell = [request for request in first_visit if "/api/" not in request.url]
            self.traffic["cold"] = traffic(shell, lambda request: request.service_worker is None)
            self.traffic["precache"] = traffic(shell, lambda request: request.service_worker is not None)
            self.warm_start()
            self.save_reports(photos)
            self.sync()
        finally:
            self.phone.close()
        return self

    def cold_load(self) -> None:
        self.emulate(THREE_G)
        with self.step("cold"):
            self.page.goto(self.live.url + "/app/", timeout=WAIT_MS)
            self.page.wait_for_selector("#login-form", state="visible", timeout=WAIT_MS)
            self.page.wait_for_selector("body[data-ready='1']", state="attached", timeout=WAIT_MS)
            usable = self.marks()
            self.page.wait_for_load_state("networkidle", timeout=WAIT_MS)  # the fonts, after the form
        self.emulate(UNLIMITED)
        self.times["cold"] = max(usable["login"], usable["ready"]) / 1000

    def log_in(self) -> None:
        """As an inspector would, not emulated: the app syncs, then shows today's visits."""
        self.page.fill("#username", self.phone.username)
        self.page.fill("#password", PASSWORD)
        self.page.click("#login-form button[type=submit]")
        self.page.wait_for_selector("#stops li", timeout=WAIT_MS)
        self.phone.wait_service_worker()

    def warm_start(self) -> None:
        """The app opened again later, offline, in a new tab; its service worker stopped
        first, as the browser stops an idle one, so that the start includes the worker's."""
        self.phone.offline(True)  # before the worker stops: Playwright waits on a stopped one
        self.session.send("ServiceWorker.enable")
        self.session.send("ServiceWorker.stopAllWorkers")
        self.page.close()
        self.session = None
        self.phone.page = self.phone.context.new_page()
        with self.step("warm"):
            self.page.goto(self.live.url + "/app/#/visits", timeout=WAIT_MS)
            self.page.wait_for_selector("#stops li", state="visible", timeout=WAIT_MS)
        self.times["warm"] = self.marks()["stops"] / 1000

    def save_reports(self, photos: list[Path]) -> None:
        """All reports but the last through saveReport in the page, the last through the form."""
        offices = sorted(self.phone.offices(), key=lambda office: office["code"])
        self.page.evaluate(CAMERA)
        with self.step("save"):
            for n, path in enumerate(photos[:-1]):
                self.page.set_input_files("#bench-camera", str(path))
                saved = self.page.evaluate(SAVE, {"office": offices[n % len(offices)], "n": n})
                self.saves.append(saved["ms"] / 1000)
                self.photo_bytes.append(saved["size"])
        self.fill_form(offices[(len(photos) - 1) % len(offices)], photos[-1])
        self.page.evaluate("() => ['tap', 'saved', 'outbox'].forEach((name) => delete window.__bench.marks[name])")
        with self.step("tap"):
            self.page.click("#save")
            self.page.wait_for_selector("#screen-outbox", timeout=WAIT_MS)
        shown = self.marks()
        self.times["tapped"] = (shown["saved"] - shown["tap"]) / 1000
        self.times["tap"] = (shown["outbox"] - shown["tap"]) / 1000
        held = self.page.evaluate("() => window.bazres.store.outbox.count()")
        if held != len(photos):
            raise SystemExit(f"the outbox holds {held} ops after {len(photos)} saves")

    def fill_form(self, office: dict, photo: Path) -> None:
        """The report form of `office`, filled as at the office: GPS fix, state, a photo."""
        self.phone.context.set_geolocation(near(office))
        self.phone.go(f"#/report/new/{office['id']}")
        self.page.wait_for_selector("#gps:has-text('دقت')", timeout=WAIT_MS)
        self.page.check("input[name=office_state][value=open]", force=True)
        self.page.fill("#staff_present", "2")
        with self.page.expect_file_chooser() as chooser:
            self.page.click("label[for=camera]")
        chooser.value.set_files(str(photo))
        self.page.wait_for_selector("#thumbs img", timeout=WAIT_MS)

    def sync(self) -> None:
        """The sync the app starts itself when the network comes back, 3G-like. The page's
        network and its worker's come back in two calls (the emulation, then Playwright's),
        each of which fires `online`: the page script holds those events back until both
        are through, then fires one, so the app's first request does not meet a half-open
        network and wait out a retry."""
        sent = Finished()
        self.page.on("requestfinished", sent)
        self.page.evaluate("() => { window.__bench.hold = true; delete document.body.dataset.sync; }")
        self.emulate(THREE_G)
        self.phone.offline(False)
        with self.step("sync"):
            self.page.evaluate("() => { window.__bench.hold = false; dispatchEvent(new Event('online')); }")
            self.page.wait_for_selector("body[data-sync='done'], body[data-sync='failed']", state="attached",
                                        timeout=WAIT_MS)
        self.page.remove_listener("requestfinished", sent)
        if self.page.get_attribute("body", "data-sync") != "done":
            raise SystemExit(f"the sync failed: {self.page.text_content('#sync-status')}")
        online = self.marks()["online"]
        stages = dict(self.page.evaluate("() => window.__bench.stages"))
        if "waiting" in stages:
            raise SystemExit(f"a request of the sync failed and was retried: {stages}")
        self.times["sync"] = (stages["done"] - online) / 1000
        self.times["push"] = (stages["photos"] - online) / 1000
        self.times["photos"] = (stages["pull"] - stages["photos"]) / 1000
        self.times["pull"] = (stages["done"] - stages["pull"]) / 1000
        self.traffic["sync"] = traffic(sent, lambda request: "/api/" in request.url)
        left = self.page.evaluate("async () => [await window.bazres.store.outbox.count(), "
                                  "(await window.bazres.store.photos.pending()).length]")
        if left != [0, 0]:
            raise SystemExit(f"after the sync: {left[0]} ops and {left[1]} photos still waiting")


# ---------------------------------------------------------------- what the app weighs


def fetch(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=30) as response:
        return response.read()


def shell_sizes(base_url: str) -> dict[str, list[tuple[str, int, int]]]:
    """Group → [(path, bytes, bytes sent)] over sw.js and every file it keeps: text gzipped
    at level 6 (a proxy's usual setting), PNG and WOFF2 as they are (already compressed)."""
    worker = fetch(base_url + "/app/sw.js")
    files = json.loads(re.search(rb"const FILES = (\[.*?\]);", worker).group(1))
    groups = {"shell": [], "fonts": [], "Leaflet": []}
    for path in ["/app/sw.js", *files]:
        body = fetch(base_url + path)
        bare = path.split("?")[0]
        sent = len(body) if bare.endswith((".png", ".woff2")) else len(gzip.compress(body, 6, mtime=0))
        group = "fonts" if "/vazirmatn/" in bare else "Leaflet" if "/leaflet/" in bare else "shell"
        groups[group].append((bare, len(body), sent))
    return groups


# ---------------------------------------------------------------- the report


def seconds(value: float) -> str:
    if value < 0.01:
        return f"{value * 1000:.1f} ms"
    if value < 1:
        return f"{value * 1000:.0f} ms"
    return f"{value:.2f} s" if value < 10 else f"{value:.1f} s"


def kb(n: float) -> str:
    return f"{n / 1024:,.0f} KB"


def timing_row(name: str, values: list[float], goal: float | None, network: str, peak: Memory | None) -> str:
    middle = statistics.median(values)
    verdict = "" if goal is None else ("met" if middle <= goal else "**missed**")
    target = "" if goal is None else f"≤ {seconds(goal)}"
    memory = f"{peak.rss / 2**20:,.0f} / {peak.pss / 2**20:,.0f} MB" if peak else ""
    return (f"| {name} | {seconds(middle)} | {seconds(min(values))} – {seconds(max(values))} | {target} | "
            f"{verdict} | {network} | {memory} |")


def print_timings(runs: list[Repeat], reports: int) -> None:
    def col(key):
        return [run.times[key] for run in runs]

    def peak(key):
        highest = Memory()
        for run in runs:
            highest.grow(run.peaks[key])
        return highest

    def moved(key):
        up = statistics.median(run.traffic[key][0] for run in runs)
        down = statistics.median(run.traffic[key][1] for run in runs)
        return f"{kb(up)} up, {kb(down)} down"

    saves = [s for run in runs for s in run.saves]
    photo = statistics.mean(b for run in runs for b in run.photo_bytes)
    precache = statistics.median(run.traffic["precache"][1] for run in runs)
    print("| measure | median | min – max | goal | | network | browser's peak RSS / PSS |")
    print("|---|---|---|---|---|---|---|")
    print(timing_row("cold first load to a usable login, 3G", col("cold"), None,
                     f"{moved('cold')} (the worker's install: {kb(precache)} more)", peak("cold")))
    print(timing_row("warm start offline to the visit list", col("warm"), GOALS["warm"], "offline", peak("warm")))
    print(timing_row(f"save to the outbox: `saveReport()` in the page (n = {len(saves)})", saves, GOALS["save"],
                     "offline", peak("save")))
    print(timing_row(f"save to the outbox: tap to saved (the toast), {reports - 1} reports held", col("tapped"),
                     GOALS["save"], "offline", peak("tap")))
    print(timing_row(f"save to the outbox: tap to the outbox screen, {reports} reports listed", col("tap"),
                     GOALS["save"], "offline", peak("tap")))
    print(timing_row(f"sync of {reports} reports with a photo each ({kb(photo)} on average), 3G", col("sync"),
                     None, moved("sync"), peak("sync")))
    for stage in ("push", "photos", "pull"):
        print(timing_row(f"&nbsp;&nbsp;of which the {stage}", col(stage), None, "", None))


GROUPS = {"shell": "shell: HTML, manifest, sw.js, app JS and CSS, idb, icons",
          "fonts": "fonts (Vazirmatn: CSS, two WOFF2)", "Leaflet": "Leaflet (JS, CSS, images)"}


def print_sizes(groups: dict[str, list[tuple[str, int, int]]]) -> None:
    print("\n| what the service worker keeps | files | bytes | sent (text gzip -6) | goal |")
    print("|---|---|---|---|---|")
    for group, rows in groups.items():
        raw, sent = sum(r[1] for r in rows), sum(r[2] for r in rows)
        goal = ""
        if group == "shell":
            goal = f"≤ {kb(GOALS['shell'])}: {'met' if sent <= GOALS['shell'] else '**missed**'}"
        print(f"| {GROUPS[group]} | {len(rows)} | {kb(raw)} | {kb(sent)} | {goal} |")
    everything = [r for rows in groups.values() for r in rows]
    print(f"| all | {len(everything)} | {kb(sum(r[1] for r in everything))} | {kb(sum(r[2] for r in everything))} | |")


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", help="a PostGIS URL (emptied first; its name must contain "
                                               "'bench' or 'test'); without it, flask run on SQLite")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--reports", type=int, default=20, help="reports (one photo each) saved, then synced")
    args = parser.parse_args()
    if args.reports < 2:
        parser.error("--reports: at least 2 (all but the last are saved in the page, the last through the form)")

    workdir = Path(tempfile.mkdtemp(prefix="bazres-appbench-"))
    (workdir / "camera").mkdir()
    live, stop, label = start_server(args.database_url, workdir)
    memory = BrowserMemory()
    memory.start()
    load_before, loads, runs = load_average(), [], []
    try:
        mandate_all_day(live)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            version = browser.version
            for n in range(args.repeats):
                # Photos of their own in each repeat: a photo the server has is not sent again.
                photos = [camera_jpeg(workdir / "camera" / f"IMG_{n:02d}_{i:02d}.jpg", seed=1000 * n + i)
                          for i in range(args.reports)]
                username = INSPECTORS[n % len(INSPECTORS)]
                runs.append(Repeat(browser, live, username, memory).run(photos))
                loads.append(os.getloadavg()[0])
                print(f"repeat {n + 1} ({username}): "
                      + ", ".join(f"{k} {seconds(v)}" for k, v in runs[-1].times.items()), file=sys.stderr, flush=True)
            browser.close()
        groups = shell_sizes(live.url)
    finally:
        memory.halt.set()
        stop()
    print(f"\n{label}; Chromium {version}; {args.repeats} repeats; 3G-like: 400 kbit/s down and up, "
          f"400 ms latency. Load average {load_before} before, {load_average()} after; 1-minute load "
          f"{min(loads):.2f}–{max(loads):.2f} at the repeats' ends ({os.cpu_count()} cores)\n")
    print_timings(runs, args.reports)
    print_sizes(groups)
    errors = sorted({e for run in runs for e in run.errors})
    if errors:
        print("\nthe app's uncaught errors:\n" + "\n".join(f"- {e}" for e in errors))
    print(f"\nserver log: {live.log_path}")


if __name__ == "__main__":
    main()

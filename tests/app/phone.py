"""An inspector's phone for the app's tests: Debian's Chromium at 360 × 740 with geolocation
granted, driving `/app` on a real Bazres process (tests/live.py), as an inspector would:
taps, the camera's file chooser, the network cut and restored.

Waits are on what the app shows (`body[data-syncs]`, an outbox item's state), never
on fixed sleeps; the page's strict CSP forbids string evaluation, so nothing here waits
on a JavaScript expression either.
"""

import io
import json
import random
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from PIL import Image

from tests.support import CHROMIUM, CHROMIUM_ARGS  # noqa: F401  (the tests take them from here)

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / ".test-results" / "screenshots" / "app"
VIEWPORT = {"width": 360, "height": 740}
# An Android phone's Chrome, near enough: the size, touch, Persian, Tehran's clock, a GPS.
PHONE_OPTIONS = dict(viewport=VIEWPORT, device_scale_factor=2, is_mobile=True, has_touch=True, locale="fa-IR",
                     timezone_id="Asia/Tehran", permissions=["geolocation"],
                     geolocation={"latitude": 35.70, "longitude": 51.40, "accuracy": 10})
PASSWORD = "bazres-demo"
TEHRAN = ZoneInfo("Asia/Tehran")


def camera_jpeg(path: Path, seed: int, size=(2400, 1800)) -> Path:
    """A camera-sized photo: a gradient with grain, so the phone's shrunk JPEG is several
    upload pieces, and each seed a different picture (a different sha256)."""
    rng = random.Random(seed)
    width, height = size
    base = Image.linear_gradient("L").resize(size).convert("RGB")
    grain = Image.effect_noise(size, 40 + seed % 20).convert("RGB")
    tint = Image.new("RGB", size, (rng.randrange(256), rng.randrange(256), rng.randrange(256)))
    image = Image.blend(Image.blend(base, grain, 0.45), tint, 0.3)
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=92)
    path.write_bytes(buffer.getvalue())
    return path


def near(office: dict, metres_north: float = 20) -> dict:
    """A GPS position a few metres from an office (its GeoJSON point)."""
    lon, lat = office["location"]["coordinates"]
    return {"latitude": lat + metres_north / 111_320, "longitude": lon, "accuracy": 8}


class Phone:
    """One browser context: one phone, its own IndexedDB, cache and service worker."""

    def __init__(self, browser, live, username: str, name: str, url: str | None = None, persistent=None,
                 **context_options):
        """`persistent`: a context launched with a profile on disk, used instead of a new one."""
        self.live, self.username, self.name = live, username, name
        self.url = url or live.url
        self.context = persistent or browser.new_context(**(PHONE_OPTIONS | context_options))
        self.page = self.context.pages[0] if self.context.pages else self.context.new_page()
        self.errors: list[str] = []
        self._watch(self.page)

    def _watch(self, page) -> None:
        page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        page.on("console", lambda msg: self.errors.append(msg.text) if msg.type == "error"
                and "Failed to load resource" not in msg.text else None)

    # ----------------------------------------------------------- navigation

    def open(self, hash_: str = "") -> None:
        self.page.goto(f"{self.url}/app/{hash_}")
        self.page.wait_for_selector("body[data-ready='1']", state="attached", timeout=30_000)

    def reopen(self, hash_: str = "") -> None:
        """Close the tab and open the app again (a new page in the same browser profile)."""
        self.page.close()
        self.page = self.context.new_page()
        self._watch(self.page)
        self.open(hash_)

    def go(self, hash_: str) -> None:
        self.page.evaluate("h => { location.hash = h; }", hash_)

    def shot(self, name: str) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path

    def offline(self, cut: bool = True) -> None:
        self.context.set_offline(cut)

    # ----------------------------------------------------------- what an inspector does

    def login(self) -> None:
        self.open()
        self.page.fill("#username", self.username)
        self.page.fill("#password", PASSWORD)
        self.page.click("#login-form button[type=submit]")
        self.page.wait_for_selector("#screen-visits", timeout=60_000)
        self.wait_service_worker()

    def wait_service_worker(self) -> None:
        """The app's worker controls the page (installed, its files cached)."""
        for _ in range(300):
            if self.page.evaluate("() => Boolean(navigator.serviceWorker.controller)"):
                return
            self.page.wait_for_timeout(100)
        raise AssertionError("the service worker never took control of /app/")

    def sync(self, timeout: float = 90_000) -> None:
        """Tap sync on the outbox screen and wait until that sync has ended, done.

        The app also syncs by itself (back online, after a save); `data-syncs` counts the
        syncs that ended, so the wait is for the one this tap started, not for another."""
        self.go("#/outbox")
        self.page.wait_for_selector("#screen-outbox")
        self.page.wait_for_selector("#sync:not([disabled])", timeout=timeout)
        ended = self._syncs_ended()
        self.page.click("#sync")
        deadline = time.monotonic() + timeout / 1000
        while self._syncs_ended() <= ended or self.page.is_disabled("#sync"):
            assert time.monotonic() < deadline, "the sync did not end"
            self.page.wait_for_timeout(100)
        assert self.page.get_attribute("body", "data-sync") == "done", self.page.text_content("#sync-status")
        self.page.wait_for_selector("#screen-outbox")

    def _syncs_ended(self) -> int:
        return int(self.page.get_attribute("body", "data-syncs") or 0)

    def offices(self) -> list[dict]:
        """The offices the phone holds, by code."""
        return sorted(self.page.evaluate("() => window.bazres.store.records.all('offices')"), key=lambda o: o["code"])

    def capture(self, office: dict, state: str, *, notes: str = "", staff: int | None = None,
                photo: Path | None = None, screenshot: str | None = None, gps: bool = True) -> str:
        """Stand near the office, open its card, fill the report form, save it to the outbox."""
        self.context.set_geolocation(near(office))
        self.go(f"#/office/{office['id']}")
        self.page.wait_for_selector("#screen-office")
        self.page.click("#new-report")
        self.page.wait_for_selector("#screen-report")
        self.page.wait_for_selector("#gps:has-text('دقت')" if gps else "#gps:has-text('گرفته نشد')",
                                    timeout=30_000)
        self.page.check(f"input[name=office_state][value={state}]", force=True)
        if staff is not None:
            self.page.fill("#staff_present", str(staff))
        self.page.check("input[name=check-hours_sign][value=yes]", force=True)
        if notes:
            self.page.fill("#notes", notes)
        if photo is not None:
            with self.page.expect_file_chooser() as chooser:
                self.page.click("label[for=camera]")
            chooser.value.set_files(str(photo))
            self.page.wait_for_selector("#thumbs img", timeout=30_000)
        if screenshot:
            self.shot(screenshot)
        self.page.click("#save")
        self.page.wait_for_selector("#screen-outbox", timeout=30_000)
        return self.page.evaluate("() => window.bazres.store.reports.all().then(rs => rs.map(r => r.id))")

    def outbox_states(self) -> dict:
        """Report id → the state the outbox screen shows (waiting, sending, sent, merged, refused)."""
        self.go("#/outbox")
        self.page.wait_for_selector("#screen-outbox")
        items = self.page.query_selector_all("#outbox-list li[data-report]")
        return {item.get_attribute("data-report"): item.get_attribute("data-state") for item in items}

    def edit(self, report_id: str, *, notes: str | None = None, state: str | None = None) -> None:
        """Open one of the phone's reports, change it, save the edit to the outbox."""
        self.go(f"#/report/{report_id}")
        self.page.wait_for_selector("#screen-report")
        if state is not None:
            self.page.check(f"input[name=office_state][value={state}]", force=True)
        if notes is not None:
            self.page.fill("#notes", notes)
        self.page.click("#save")
        self.page.wait_for_selector("#screen-outbox", timeout=30_000)

    def item(self, report_id: str):
        """The outbox screen's entry of a report."""
        self.go("#/outbox")
        self.page.wait_for_selector("#screen-outbox")
        return self.page.query_selector(f"#outbox-list li[data-report='{report_id}']")

    def outbox_count(self) -> int:
        return self.page.evaluate("() => window.bazres.store.outbox.count()")

    def close(self) -> None:
        self.context.close()


def tehran_today(now: datetime | None = None) -> datetime:
    return (now or datetime.now(TEHRAN)).astimezone(TEHRAN)


def mandate_all_day(live, days: int = 2) -> None:
    """A city rule that every office must be open all day, today and the next days (on
    holidays too), so that a closure found now is flagged whatever the hour the suite runs.
    Waits out the last minute of a Tehran day (the window ends at 23:59)."""
    import jdatetime

    now = tehran_today()
    if now.hour == 23 and now.minute >= 58:
        import time
        time.sleep(130 - now.second)
        now = tehran_today()
    first = jdatetime.date.fromgregorian(date=now.date())
    last = jdatetime.date.fromgregorian(date=(now + timedelta(days=days)).date())
    while last.year != first.year:  # a dated rule covers days of one Jalali year
        last -= timedelta(days=1)
    body = {"name": "آزمون برنامهٔ بازرس: باز در تمام روز", "scope": "city",
            "date_from": f"{first.year:04d}-{first.month:02d}-{first.day:02d}",
            "date_to": f"{last.year:04d}-{last.month:02d}-{last.day:02d}",
            "kind": "open", "windows": [{"start": "00:00", "end": "23:59"}], "on_holidays": True}
    answer = live.request("POST", "/api/v1/hours-rules", body, user="admin")
    assert answer.status == 201, answer.body


def server_reports(live, inspector: str) -> list[dict]:
    """The inspector's reports as the server holds them (a pull from scratch of their own)."""
    answer = live.request("POST", "/api/v1/sync/pull", {"protocol": 1, "device_id": "00000000-0000-4000-8000-"
                                                        "00000000beef", "cursor": None, "limit": 1000}, user=inspector)
    assert answer.status == 200, answer.body
    reports = []
    page = answer.json()
    reports.extend(page["changes"]["reports"]["upserted"])
    while page["has_more"]:
        page = live.request("POST", "/api/v1/sync/pull", {"protocol": 1, "device_id": "00000000-0000-4000-8000-"
                                                          "00000000beef", "cursor": page["cursor"], "limit": 1000},
                            user=inspector).json()
        reports.extend(page["changes"]["reports"]["upserted"])
    return reports


def as_json(value) -> str:
    return json.dumps(value, ensure_ascii=False, indent=1)

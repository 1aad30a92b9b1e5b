"""The inspector's app (`/app`) in Debian's Chromium, on a real Bazres process of this leg's
database (the `live` fixture): phones at 360 × 740, geolocation granted, the network cut
and restored by Playwright."""

import pytest

from tests.app.phone import Phone, camera_jpeg, mandate_all_day


@pytest.fixture(scope="session")
def mandated(live):
    """Every office must be open all day while these tests run (a rule published for it)."""
    mandate_all_day(live)
    return live


@pytest.fixture
def phones(browser, mandated, request):
    """`phones("inspector-3a")` opens a phone; all are closed after the test, each leaving
    a screenshot of where it ended."""
    opened = []

    def make(username: str, url: str | None = None, persistent=None, **options) -> Phone:
        phone = Phone(browser, mandated, username, f"{request.node.name}-{len(opened)}", url=url,
                      persistent=persistent, **options)
        opened.append(phone)
        return phone

    yield make
    for phone in opened:
        try:
            phone.shot(f"end-{phone.name}")
        except Exception:  # a page the test closed on purpose
            pass
        phone.close()


@pytest.fixture(scope="session")
def photo_files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("camera")
    return [camera_jpeg(folder / f"IMG_{i:04d}.jpg", seed=i) for i in range(1, 9)]

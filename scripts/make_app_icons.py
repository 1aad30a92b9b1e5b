"""Draw the inspector's app icons (app/static/app/icons/): run once when the design changes.

`python scripts/make_app_icons.py`; the PNGs are committed. A white «ب» (بازرس) on the
app's green, in the vendored Vazirmatn; the maskable one keeps the letter inside the
central 80 % that Android's masks leave visible.
"""

from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "app" / "static" / "app" / "icons"
FONT = ROOT / "app" / "static" / "vendor" / "vazirmatn" / "Vazirmatn-Bold.ttf"
GREEN, WHITE = (20, 83, 45), (255, 255, 255)


def icon(size: int, maskable: bool) -> Image.Image:
    image = Image.new("RGB", (size, size), GREEN if maskable else (246, 247, 249))
    draw = ImageDraw.Draw(image)
    if not maskable:
        draw.rounded_rectangle((0, 0, size - 1, size - 1), radius=size // 5, fill=GREEN)
    font = ImageFont.truetype(str(FONT), int(size * (0.42 if maskable else 0.55)))
    draw.text((size / 2, size / 2), "ب", font=font, fill=WHITE, anchor="mm")
    return image


if __name__ == "__main__":
    OUT.mkdir(parents=True, exist_ok=True)
    icon(192, False).save(OUT / "icon-192.png", optimize=True)
    icon(512, False).save(OUT / "icon-512.png", optimize=True)
    icon(512, True).save(OUT / "icon-maskable-512.png", optimize=True)

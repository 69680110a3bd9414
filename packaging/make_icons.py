"""Draw the app icon with QPainter and write assets/icons/ (PNG sizes, Windows .ico, macOS .icns).

The files are committed; run this again only to change the icon:
``QT_QPA_PLATFORM=offscreen .venv/bin/python packaging/make_icons.py``. No font is used, so the
result is the same on every machine. .ico and .icns are written by hand (both simply wrap PNG
images), so no Qt image-format plugin is needed.
"""

from __future__ import annotations

import argparse
import os
import struct
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PNG_SIZES = (16, 24, 32, 48, 64, 128, 256)
ICO_SIZES = (16, 24, 32, 48, 64, 128, 256)
# icns element types holding PNG data, by pixel size.
ICNS_TYPES = {16: b"icp4", 32: b"icp5", 64: b"icp6", 128: b"ic07", 256: b"ic08", 512: b"ic09"}


def render_png(size: int) -> bytes:
    """The icon at ``size`` x ``size`` pixels, as PNG bytes."""
    from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QPointF, QRectF, Qt
    from PySide6.QtGui import QBrush, QColor, QImage, QLinearGradient, QPainter, QPainterPath, QPen

    image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    p = QPainter(image)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    p.scale(size / 256.0, size / 256.0)  # draw on a 256-unit canvas

    # Tile: a rounded square with a teal gradient.
    gradient = QLinearGradient(QPointF(0, 0), QPointF(0, 256))
    gradient.setColorAt(0.0, QColor("#2fa58a"))
    gradient.setColorAt(1.0, QColor("#17614f"))
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(QBrush(gradient))
    p.drawRoundedRect(QRectF(8, 8, 240, 240), 52, 52)

    # Speech bubble: chatting.
    bubble = QPainterPath()
    bubble.addRoundedRect(QRectF(34, 40, 188, 150), 44, 44)
    tail = QPainterPath()
    tail.moveTo(70, 176)
    tail.lineTo(52, 222)
    tail.lineTo(112, 184)
    tail.closeSubpath()
    p.setBrush(QColor("#fffaf0"))
    p.drawPath(bubble.united(tail))

    # An alpaca in the bubble: a long face, tall ears, a woolly top-knot, a long neck.
    wool = QColor("#c9925a")
    p.setBrush(wool)
    p.drawRoundedRect(QRectF(108, 150, 40, 40), 12, 12)  # neck, cut by the bubble's edge
    for angle, x in ((-14, 104), (14, 152)):
        p.save()
        p.translate(x, 92)
        p.rotate(angle)
        p.drawEllipse(QRectF(-9, -42, 18, 48))  # ear
        p.restore()
    p.drawRoundedRect(QRectF(98, 72, 60, 96), 30, 30)  # face
    fluff = QColor("#e2b985")
    p.setBrush(fluff)
    for x, y, r in ((108, 74, 17), (128, 66, 19), (148, 74, 17), (118, 86, 14), (138, 86, 14)):
        p.drawEllipse(QPointF(x, y), r, r)  # top-knot
    p.setBrush(QColor("#f3dcc0"))
    p.drawEllipse(QRectF(106, 128, 44, 38))  # muzzle
    p.setBrush(QColor("#3a2a1f"))
    p.drawEllipse(QRectF(106, 104, 10, 12))
    p.drawEllipse(QRectF(140, 104, 10, 12))
    p.drawEllipse(QRectF(121, 136, 6, 5))  # nostrils
    p.drawEllipse(QRectF(129, 136, 6, 5))
    pen = QPen(QColor("#3a2a1f"), 3.5)
    pen.setCapStyle(Qt.PenCapStyle.RoundCap)
    p.setPen(pen)
    p.setBrush(Qt.BrushStyle.NoBrush)
    p.drawArc(QRectF(118, 142, 20, 14), 200 * 16, 140 * 16)  # smile
    p.end()

    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    if not image.save(buffer, b"PNG"):
        raise RuntimeError("could not encode PNG")
    return bytes(data.data())


def ico_bytes(pngs: dict[int, bytes]) -> bytes:
    """A Windows .ico holding PNG images (supported since Windows Vista)."""
    sizes = sorted(pngs)
    header = struct.pack("<HHH", 0, 1, len(sizes))
    offset = 6 + 16 * len(sizes)
    entries, blobs = b"", b""
    for size in sizes:
        data = pngs[size]
        dim = 0 if size >= 256 else size  # 0 means 256
        entries += struct.pack("<BBBBHHII", dim, dim, 0, 0, 1, 32, len(data), offset)
        blobs += data
        offset += len(data)
    return header + entries + blobs


def icns_bytes(pngs: dict[int, bytes]) -> bytes:
    """A macOS .icns holding PNG images."""
    body = b"".join(ICNS_TYPES[size] + struct.pack(">I", 8 + len(pngs[size])) + pngs[size] for size in sorted(pngs))
    return b"icns" + struct.pack(">I", 8 + len(body)) + body


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", default=str(ROOT / "assets" / "icons"), help="folder to write")
    args = parser.parse_args(argv)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtGui import QGuiApplication

    _app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    pngs = {size: render_png(size) for size in sorted({*PNG_SIZES, *ICO_SIZES, *ICNS_TYPES})}
    for size in PNG_SIZES:
        (out / f"alpaca-desk-{size}.png").write_bytes(pngs[size])
    (out / "alpaca-desk.ico").write_bytes(ico_bytes({s: pngs[s] for s in ICO_SIZES}))
    (out / "alpaca-desk.icns").write_bytes(icns_bytes({s: pngs[s] for s in ICNS_TYPES}))
    print(f"wrote {len(PNG_SIZES)} PNG files, alpaca-desk.ico and alpaca-desk.icns to {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

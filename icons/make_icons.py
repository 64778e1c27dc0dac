#!/usr/bin/env python3
"""Draws Sealbox's app icon (a white shield with a keyhole on a blue tile) and
writes every size the Tauri bundler wants: PNGs, icon.ico and icon.icns.

Standard library only, so it runs anywhere: `python3 icons/make_icons.py`.
"""
import math
import os
import struct
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
BLUE = (0, 94, 184)
WHITE = (255, 255, 255)


def inside_tile(x, y):
    # Rounded square, corner radius 0.2, on the unit square with a margin.
    m, r = 0.04, 0.2
    cx = min(max(x, m + r), 1 - m - r)
    cy = min(max(y, m + r), 1 - m - r)
    return (x - cx) ** 2 + (y - cy) ** 2 <= r * r


def inside_shield(x, y):
    # Flat top, straight sides, curved point at the bottom.
    left, right, top, waist, tip = 0.24, 0.76, 0.2, 0.52, 0.86
    if y < top or y > tip:
        return False
    if y <= waist:
        return left <= x <= right
    t = (y - waist) / (tip - waist)
    half = (right - left) / 2 * math.sqrt(max(0.0, 1 - t * t))
    return abs(x - 0.5) <= half


def inside_keyhole(x, y):
    if (x - 0.5) ** 2 + (y - 0.44) ** 2 <= 0.075 ** 2:
        return True
    return abs(x - 0.5) <= 0.035 + (y - 0.44) * 0.12 and 0.44 <= y <= 0.68


def pixel(x, y):
    if not inside_tile(x, y):
        return (0, 0, 0, 0)
    if inside_shield(x, y) and not inside_keyhole(x, y):
        return WHITE + (255,)
    return BLUE + (255,)


def render(size, ss=4):
    rows = []
    for py in range(size):
        row = bytearray()
        for px in range(size):
            acc = [0, 0, 0, 0]
            for sy in range(ss):
                for sx in range(ss):
                    r, g, b, a = pixel((px + (sx + 0.5) / ss) / size, (py + (sy + 0.5) / ss) / size)
                    acc[0] += r * a
                    acc[1] += g * a
                    acc[2] += b * a
                    acc[3] += a
            n = ss * ss
            alpha = acc[3] / n
            if acc[3]:
                row += bytes((round(acc[0] / acc[3]), round(acc[1] / acc[3]), round(acc[2] / acc[3]), round(alpha)))
            else:
                row += bytes(4)
        rows.append(bytes(row))
    return rows


def png(rows):
    size = len(rows)
    raw = b"".join(b"\x00" + r for r in rows)

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0)  # 8-bit RGBA
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")


def ico(images):
    # PNG-compressed entries (Windows Vista and later).
    header = struct.pack("<HHH", 0, 1, len(images))
    offset = 6 + 16 * len(images)
    entries, blobs = b"", b""
    for size, data in images:
        dim = 0 if size >= 256 else size
        entries += struct.pack("<BBBBHHII", dim, dim, 0, 0, 1, 32, len(data), offset + len(blobs))
        blobs += data
    return header + entries + blobs


def icns(images):
    types = {32: b"ic11", 64: b"ic12", 128: b"ic07", 256: b"ic08", 512: b"ic09", 1024: b"ic10"}
    body = b"".join(types[s] + struct.pack(">I", len(d) + 8) + d for s, d in images)
    return b"icns" + struct.pack(">I", len(body) + 8) + body


def main():
    cache = {}

    def get(size):
        if size not in cache:
            cache[size] = png(render(size, ss=4 if size <= 256 else 2))
        return cache[size]

    outputs = {
        "32x32.png": 32,
        "64x64.png": 64,
        "128x128.png": 128,
        "128x128@2x.png": 256,
        "icon.png": 512,
    }
    for name, size in outputs.items():
        with open(os.path.join(HERE, name), "wb") as f:
            f.write(get(size))
    with open(os.path.join(HERE, "icon.ico"), "wb") as f:
        f.write(ico([(s, get(s)) for s in (16, 24, 32, 48, 64, 256)]))
    with open(os.path.join(HERE, "icon.icns"), "wb") as f:
        f.write(icns([(s, get(s)) for s in (32, 64, 128, 256, 512)]))


if __name__ == "__main__":
    main()

"""Built-in demo data: procedural cel-shaded illustrations, so the pipeline runs with no download.

`colorize demo-data --out DIR` writes PNGs that the builder reads like any other image folder.
They are a stand-in for real art (see docs/demo-data.md): each image is a simple bust of a
character (hair, face, eyes, clothes) in front of a few background shapes, drawn as flat regions
of a harmonious per-image palette with one or two cel-shading tones, a light-side highlight and
dark outlines. The layout ties colors to shapes and places (skin in the middle, hair on top,
clothes below), so a colorizer has something to learn, as it does from real anime images.

Image `index` of `seed` depends only on (seed, index, size): a larger --count extends a smaller one.
"""

from __future__ import annotations

import argparse
import colorsys
import os
import re
import time
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from colorize.errors import ColorizeError

RGB = tuple[int, int, int]
HSV = tuple[float, float, float]  # each in [0, 1]

_SUBPIXEL_BITS = 4  # fixed-point coordinates for OpenCV drawing: 1/16 px precision
# Fast PNG: low zlib level and, where OpenCV has the flag (4.10+), no row filter. On flat cel-shaded
# images that encodes about twice as fast as the default filters and gives smaller files (~27 KB).
_PNG_PARAMS = [cv2.IMWRITE_PNG_COMPRESSION, 1]
if hasattr(cv2, "IMWRITE_PNG_FILTER"):
    _PNG_PARAMS += [cv2.IMWRITE_PNG_FILTER, cv2.IMWRITE_PNG_FILTER_NONE]
_NAME = re.compile(r"demo-\d{4,}-\d{5,}\.png")
_MIN_SIZE = 64


def file_name(seed: int, index: int) -> str:
    """Name of image `index` of `seed`."""
    return f"demo-{seed:04d}-{index:05d}.png"


# ---------------------------------------------------------------- colors


def _rgb(hsv: HSV) -> RGB:
    r, g, b = colorsys.hsv_to_rgb(hsv[0] % 1.0, min(max(hsv[1], 0.0), 1.0), min(max(hsv[2], 0.0), 1.0))
    return round(r * 255), round(g * 255), round(b * 255)


@dataclass(frozen=True)
class Tones:
    """A region's flat color with its cel-shading variants."""

    base: RGB
    shadow: RGB
    deep: RGB  # second, darker shadow tone at the far edge
    light: RGB  # highlight on the side facing the light

    @classmethod
    def of(cls, hsv: HSV) -> Tones:
        """Shadows go darker, more saturated and shift the hue slightly toward violet, as anime does."""
        h, s, v = hsv
        toward_violet = 0.02 * np.sign(np.sin(2 * np.pi * (0.75 - h)))
        return cls(
            base=_rgb(hsv),
            shadow=_rgb((h + toward_violet, s * 1.1 + 0.08, v * 0.8)),
            deep=_rgb((h + 2 * toward_violet, s * 1.15 + 0.12, v * 0.64)),
            light=_rgb((h, s * 0.55, v * 1.1 + 0.1)),
        )


@dataclass(frozen=True)
class Palette:
    """One image's colors: a few hues from a color-harmony scheme around a random base hue."""

    background: tuple[RGB, RGB]  # top and bottom of a vertical gradient (equal when flat)
    props: tuple[Tones, ...]
    hair: Tones
    skin: Tones
    clothes: Tones
    accent: Tones
    iris: Tones
    ink: RGB  # outline color: near black, tinted


# Hue offsets (fractions of the color wheel) of classic harmonies: analogous, complementary,
# split-complementary, triadic.
_SCHEMES = (
    (0.0, 1 / 12, -1 / 12, 1 / 6),
    (0.0, 0.5, 1 / 24, 0.5 - 1 / 24),
    (0.0, 5 / 12, 7 / 12, 1 / 24),
    (0.0, 1 / 3, 2 / 3, 1 / 12),
)


def make_palette(rng: np.random.Generator) -> Palette:
    """A harmonious palette: strong hair/clothes/eye colors, pale background, peach skin."""
    scheme = _SCHEMES[rng.integers(len(_SCHEMES))]
    hues = (rng.random() + np.asarray(scheme) + rng.normal(0, 0.015, len(scheme))) % 1.0
    rng.shuffle(hues)
    natural_hair = rng.random() < 0.35  # black, brown or blond rather than a palette hue

    def strong(h: float) -> Tones:
        return Tones.of((h, rng.uniform(0.4, 0.85), rng.uniform(0.5, 0.95)))

    def pale(h: float, s: tuple[float, float], v: tuple[float, float]) -> HSV:
        return h, rng.uniform(*s), rng.uniform(*v)

    top = pale(hues[3], (0.05, 0.25), (0.9, 1.0))
    bottom = top if rng.random() < 0.4 else pale(hues[rng.integers(4)], (0.1, 0.35), (0.85, 1.0))
    return Palette(
        background=(_rgb(top), _rgb(bottom)),
        props=tuple(Tones.of(pale(h, (0.2, 0.5), (0.7, 0.95))) for h in hues),
        hair=Tones.of((rng.uniform(0.03, 0.12), rng.uniform(0.25, 0.75), rng.uniform(0.15, 0.95)))
        if natural_hair else strong(hues[0]),
        clothes=strong(hues[1]),
        accent=strong(hues[2]),
        iris=Tones.of((hues[rng.integers(4)], rng.uniform(0.55, 0.9), rng.uniform(0.55, 0.9))),
        skin=Tones.of((rng.uniform(0.04, 0.08), rng.uniform(0.1, 0.28), rng.uniform(0.96, 1.0))),
        ink=_rgb((hues[0], rng.uniform(0.3, 0.7), rng.uniform(0.08, 0.22))),
    )


_WHITE = Tones(base=(252, 252, 252), shadow=(226, 228, 238), deep=(210, 212, 226), light=(255, 255, 255))
_PUPIL = Tones.of((0.0, 0.0, 0.12))


# ---------------------------------------------------------------- shapes, in unit coordinates (x, y)


def ellipse(center: tuple[float, float], axes: tuple[float, float], angle: float = 0.0,
            arc: tuple[float, float] = (0.0, 2 * np.pi), n: int = 32) -> np.ndarray:
    """(n, 2) points on a rotated ellipse, or on an arc of it (angles in radians, y down)."""
    t = np.linspace(*arc, n, endpoint=arc[1] - arc[0] < 2 * np.pi)
    x, y = axes[0] * np.cos(t), axes[1] * np.sin(t)
    c, s = np.cos(angle), np.sin(angle)
    return np.stack([center[0] + c * x - s * y, center[1] + s * x + c * y], axis=1)


def blob(rng: np.random.Generator, center: tuple[float, float], radius: float,
         roughness: float = 0.3, n: int = 32) -> np.ndarray:
    """(n, 2) points of a smooth random closed shape: a circle with low-frequency radial waves."""
    t = np.linspace(0, 2 * np.pi, n, endpoint=False)
    k = np.arange(2, 5)[:, None]  # (3, 1) wave numbers
    waves = rng.uniform(-1, 1, (3, 1)) * roughness / k * np.cos(k * t + rng.uniform(0, 2 * np.pi, (3, 1)))
    r = radius * (1.0 + waves.sum(axis=0))
    aspect = rng.uniform(0.7, 1.4)
    return np.stack([center[0] + aspect * r * np.cos(t), center[1] + r * np.sin(t)], axis=1)


def polygon(rng: np.random.Generator, center: tuple[float, float], radius: float) -> np.ndarray:
    """A random convex polygon with 3 to 7 corners."""
    t = np.sort(rng.uniform(0, 2 * np.pi, rng.integers(3, 8)))
    return np.stack([center[0] + radius * np.cos(t), center[1] + radius * np.sin(t)], axis=1)


def strand(p0: np.ndarray, p1: np.ndarray, bend: float, width: float, n: int = 12) -> np.ndarray:
    """A tapered, curved lock of hair from root `p0` (`width` wide) to a point at `p1`.

    `bend` moves the quadratic Bezier's control point sideways, as a fraction of the length.
    """
    t = np.linspace(0.0, 1.0, n)[:, None]  # (n, 1)
    d = p1 - p0
    ctrl = (p0 + p1) / 2 + bend * np.array([-d[1], d[0]])
    center = (1 - t) ** 2 * p0 + 2 * (1 - t) * t * ctrl + t**2 * p1  # (n, 2)
    tangent = 2 * (1 - t) * (ctrl - p0) + 2 * t * (p1 - ctrl)
    normal = np.stack([-tangent[:, 1], tangent[:, 0]], axis=1) / np.linalg.norm(tangent, axis=1, keepdims=True)
    half = width / 2 * (1 - t) ** 0.8
    return np.concatenate([center + half * normal, (center - half * normal)[::-1]])


# ---------------------------------------------------------------- painting


def _gradient(size: int, top: RGB, bottom: RGB) -> np.ndarray:
    """A (size, size, 3) vertical gradient from `top` to `bottom`."""
    w = np.linspace(0.0, 1.0, size)[:, None]  # (size, 1)
    column = np.round((1 - w) * np.asarray(top) + w * np.asarray(bottom)).astype(np.uint8)  # (size, 3)
    return cv2.resize(column[:, None, :], (size, size), interpolation=cv2.INTER_NEAREST)


class Painter:
    """Paints cel-shaded, outlined regions given in unit coordinates onto one RGB canvas.

    Cel shading: the part of a region not covered by its own copy shifted toward the light is in
    shadow (a crescent on the far side); the same trick with a shift away from the light gives a
    highlight rim. Later regions cover earlier ones, outlines included.
    """

    def __init__(self, size: int, background: tuple[RGB, RGB], light_angle: float, ink: RGB, line_width: float):
        self.size = size
        self.image = _gradient(size, *background)
        self.light = np.array([np.cos(light_angle), np.sin(light_angle)])  # unit vector toward the light
        self.ink = ink
        self.line_width = line_width  # px at 256x256
        self.pose = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])  # affine map applied to all shapes

    def tilt(self, angle: float, pivot: tuple[float, float]) -> None:
        """Rotate everything drawn from now on by `angle` radians around `pivot`."""
        self.pose = cv2.getRotationMatrix2D(pivot, np.degrees(angle), 1.0)

    def _place(self, pts: np.ndarray) -> np.ndarray:
        return pts @ self.pose[:, :2].T + self.pose[:, 2]

    def _fixed(self, pts: np.ndarray) -> np.ndarray:
        return np.round(pts * self.size * (1 << _SUBPIXEL_BITS)).astype(np.int32)

    def _thickness(self, scale: float) -> int:
        return max(1, round(self.line_width * scale * self.size / 256))

    def region(self, pts: np.ndarray, tones: Tones, *, line: float = 1.0, shade: float = 0.22,
               deep: bool = False, highlight: bool = False, light: np.ndarray | None = None) -> None:
        """Fill the closed shape `pts` (n, 2) with its shading tones and outline it.

        `shade` is the shadow width as a fraction of the shape's smaller extent (0: flat);
        `line` scales the outline width (0: no outline).
        """
        pts = self._place(pts)
        fixed = self._fixed(pts)
        if shade > 0:
            self._shaded_fill(pts, tones, shade, deep, highlight, self.light if light is None else light)
        else:
            cv2.fillPoly(self.image, [fixed], tones.base, cv2.LINE_8, _SUBPIXEL_BITS)
        if line > 0:
            cv2.polylines(self.image, [fixed], True, self.ink, self._thickness(line), cv2.LINE_AA,
                          _SUBPIXEL_BITS)

    def _shaded_fill(self, pts: np.ndarray, tones: Tones, shade: float, deep: bool, highlight: bool,
                     light: np.ndarray) -> None:
        """Paint the tones on a layer over the shape's bounding box, then copy it inside the shape.

        Only OpenCV fills and masked copies: numpy fancy indexing on RGB is several times slower.
        """
        px = pts * self.size
        lo = np.maximum(np.floor(px.min(axis=0)).astype(int) - 1, 0)
        hi = np.minimum(np.ceil(px.max(axis=0)).astype(int) + 2, self.size)
        if np.any(hi <= lo):
            return
        roi = self.image[lo[1]:hi[1], lo[0]:hi[0]]  # view: writes go to the canvas
        local = pts - lo / self.size
        depth = float(np.clip(shade * (px.max(axis=0) - px.min(axis=0)).min(), 1.5, 16 * self.size / 256))

        def fill(dst: np.ndarray, shift_px: float, color: RGB | int) -> np.ndarray:
            shifted = self._fixed(local + shift_px * light / self.size)
            return cv2.fillPoly(dst, [shifted], color, cv2.LINE_8, _SUBPIXEL_BITS)

        layer = np.empty_like(roi)
        cv2.rectangle(layer, (0, 0), layer.shape[1::-1], tones.deep if deep else tones.shadow, cv2.FILLED)
        if deep:
            fill(layer, 0.4 * depth, tones.shadow)
        fill(layer, depth, tones.base)
        inside = fill(np.zeros(roi.shape[:2], np.uint8), 0.0, 1)
        if highlight:  # the rim on the light side: inside, but outside the copy shifted away from the light
            fill(roi, 0.0, tones.light)
            inside &= fill(np.zeros_like(inside), -0.35 * depth, 1)
        cv2.copyTo(layer, inside, roi)

    def stroke(self, pts: np.ndarray, line: float = 1.0) -> None:
        """An open ink line along `pts` (n, 2)."""
        cv2.polylines(self.image, [self._fixed(self._place(pts))], False, self.ink, self._thickness(line),
                      cv2.LINE_AA, _SUBPIXEL_BITS)


# ---------------------------------------------------------------- composition


def _props(p: Painter, palette: Palette, rng: np.random.Generator) -> None:
    """Background scenery: a few large pale shapes, partly off the canvas."""
    for _ in range(rng.integers(1, 8)):
        center = (rng.uniform(-0.1, 1.1), rng.uniform(-0.1, 1.0))
        radius = rng.uniform(0.08, 0.3)
        tones = palette.props[rng.integers(len(palette.props))]
        kind = rng.integers(3)
        if kind == 0:
            pts = ellipse(center, (radius, radius * rng.uniform(0.5, 1.2)), rng.uniform(0, np.pi))
        elif kind == 1:
            pts = blob(rng, center, radius)
        else:
            pts = polygon(rng, center, radius)
        p.region(pts, tones, line=0.7, deep=rng.random() < 0.3)


def _tips(rng: np.random.Generator, x0: float, x1: float, y: float, depth: float, n: int) -> np.ndarray:
    """(2n + 1, 2) points of a jagged hair edge from x0 to x1: n notches rising up to `depth` above y."""
    xs = np.linspace(x0, x1, 2 * n + 1)
    ys = y - (np.arange(2 * n + 1) % 2) * depth * rng.uniform(0.4, 1.0, 2 * n + 1)
    return np.stack([xs, ys], axis=1)


@dataclass(frozen=True)
class _Head:
    """Where the character's head is: center and radii, in unit coordinates."""

    cx: float
    cy: float
    rx: float
    ry: float

    @property
    def chin(self) -> float:
        return self.cy + self.ry


def _clothes(p: Painter, palette: Palette, rng: np.random.Generator, head: _Head) -> None:
    """Neck, shoulders down past the bottom edge, a V collar and sometimes a bow."""
    cx, rx, chin = head.cx, head.rx, head.chin
    neck = np.array([[cx - 0.28 * rx, head.cy], [cx + 0.28 * rx, head.cy],
                     [cx + 0.3 * rx, chin + 0.1], [cx - 0.3 * rx, chin + 0.1]])
    p.region(neck, palette.skin, shade=0.5, light=np.array([0.0, -1.0]))  # in the head's shadow
    half, drop = rx * rng.uniform(1.3, 2.0), rng.uniform(0.06, 0.12)
    shoulders = ellipse((cx, chin + 0.04 + drop), (half, drop), arc=(np.pi, 2 * np.pi), n=16)
    body = np.concatenate([shoulders, [[cx + half * 1.05, 1.1], [cx - half * 1.05, 1.1]]])
    p.region(body, palette.clothes, line=1.4, deep=rng.random() < 0.5)
    collar = np.array([[cx - 0.6 * rx, chin + 0.05], [cx + 0.6 * rx, chin + 0.05],
                       [cx, chin + rng.uniform(0.1, 0.25)]])
    p.region(collar, palette.accent if rng.random() < 0.5 else _WHITE, shade=0.15)
    if rng.random() < 0.5:
        knot = np.array([cx, chin + 0.08])
        for side in (-1, 1):
            wing = knot + rx * np.array([[0.0, 0.0], [side * 0.55, -0.25], [side * 0.5, 0.3]])
            p.region(wing, palette.accent, line=0.8, deep=True)
        p.region(ellipse(tuple(knot), (0.12 * rx, 0.1 * rx), n=12), palette.accent, line=0.8, shade=0.0)


def _face(p: Painter, palette: Palette, rng: np.random.Generator, head: _Head) -> None:
    """Face with a pointed chin, eyes, brows and mouth."""
    cx, cy, rx, ry = head.cx, head.cy, head.rx, head.ry
    outline = ellipse((cx, cy), (rx, ry), n=40)
    below = np.clip((outline[:, 1] - cy) / ry, 0.0, 1.0)  # 0 above the center, 1 at the chin
    outline[:, 0] = cx + (outline[:, 0] - cx) * (1 - rng.uniform(0.3, 0.6) * below**2)
    p.region(outline, palette.skin, shade=0.12)

    eye_y = cy + ry * rng.uniform(0.1, 0.25)
    w, h = rx * rng.uniform(0.2, 0.3), ry * rng.uniform(0.18, 0.28)
    look = rng.uniform(-1, 1)
    down = np.array([0.0, 1.0])  # lit from below: the shadow falls from the upper lid
    for x in (cx - 0.45 * rx, cx + 0.45 * rx):
        ix = x + look * w * 0.25
        p.region(ellipse((x, eye_y), (w, h)), _WHITE, line=0.0, shade=0.3, light=down)
        p.region(ellipse((ix, eye_y + 0.1 * h), (0.62 * w, 0.9 * h)), palette.iris, line=0.6, shade=0.45,
                 deep=True, light=down)
        p.region(ellipse((ix, eye_y + 0.05 * h), (0.28 * w, 0.45 * h)), _PUPIL, line=0.0, shade=0.0)
        p.region(ellipse((ix - 0.3 * w, eye_y - 0.3 * h), (0.2 * w, 0.2 * w)), _WHITE, line=0.0, shade=0.0)
        p.stroke(ellipse((x, eye_y + 0.1 * h), (1.15 * w, 1.15 * h), arc=(1.15 * np.pi, 1.9 * np.pi), n=12),
                 line=2.0)  # upper lashes
        p.stroke(ellipse((x, eye_y - 0.1 * h), (0.8 * w, 1.1 * h), arc=(0.3 * np.pi, 0.7 * np.pi), n=8), line=0.6)
        brow_y = eye_y - h * rng.uniform(1.5, 2.0)
        p.stroke(ellipse((x, brow_y), (w, 0.4 * h), arc=(1.2 * np.pi, 1.8 * np.pi), n=8), line=0.7)
    mouth_y = cy + ry * rng.uniform(0.6, 0.72)
    p.stroke(ellipse((cx, mouth_y), (0.12 * rx, 0.05 * rx), arc=(0.2 * np.pi, 0.8 * np.pi), n=8), line=0.8)


def _back_hair(p: Painter, hair: Tones, rng: np.random.Generator, head: _Head) -> None:
    """Hair behind the head: sometimes a bun, then a dome falling to a jagged line of tips."""
    cx, cy, rx, ry = head.cx, head.cy, head.rx, head.ry
    if rng.random() < 0.3:
        bun = (cx + rng.choice([-1, 1]) * rx, cy - 0.8 * ry)
        p.region(blob(rng, bun, 0.5 * rx, roughness=0.2), hair, line=1.2, deep=True)
    dome = ellipse((cx, cy - 0.15 * ry), (1.25 * rx, 1.2 * ry), arc=(np.pi, 2 * np.pi), n=20)
    spread = rx * rng.uniform(1.2, 1.6)
    tips = _tips(rng, cx + spread, cx - spread, cy + ry * rng.uniform(0.9, 2.6), 0.35 * ry, rng.integers(3, 7))
    p.region(np.concatenate([dome, tips]), hair, line=1.4, deep=True)


def _front_hair(p: Painter, hair: Tones, rng: np.random.Generator, head: _Head) -> None:
    """Hair over the face: a fringe of bangs, locks across it and along the cheeks, curled strands."""
    cx, cy, rx, ry = head.cx, head.cy, head.rx, head.ry
    dome = ellipse((cx, cy - 0.05 * ry), (1.1 * rx, 1.07 * ry), arc=(np.pi, 2 * np.pi), n=20)
    bangs = _tips(rng, cx + 1.1 * rx, cx - 1.1 * rx, cy + ry * rng.uniform(-0.15, 0.05), 0.35 * ry,
                  rng.integers(3, 6))
    p.region(np.concatenate([dome, bangs]), hair, line=1.0, highlight=True)
    for x in rng.uniform(-0.8, 0.8, rng.integers(2, 5)):
        root = np.array([cx + 0.4 * x * rx, cy - 0.9 * ry])
        tip = np.array([cx + x * rx * 1.1, cy + ry * rng.uniform(-0.15, 0.1)])
        p.region(strand(root, tip, rng.normal(0, 0.1), rx * rng.uniform(0.25, 0.45)), hair, line=0.8,
                 shade=0.3, highlight=rng.random() < 0.5)
    for side in (-1, 1):
        root = np.array([cx + side * 0.85 * rx, cy - 0.4 * ry])
        tip = np.array([cx + side * rx * rng.uniform(0.8, 1.3), head.chin + ry * rng.uniform(0.0, 1.0)])
        p.region(strand(root, tip, side * rng.uniform(-0.1, 0.2), rx * rng.uniform(0.3, 0.5)), hair, line=0.9,
                 deep=True)
    for _ in range(rng.integers(0, 3)):
        angle = rng.uniform(1.25 * np.pi, 1.75 * np.pi)
        direction = np.array([np.cos(angle), np.sin(angle)])
        root = np.array([cx, cy - 0.05 * ry]) + 0.95 * np.array([rx, ry]) * direction
        tip = root + rng.uniform(0.3, 0.6) * rx * direction
        p.region(strand(root, tip, rng.choice([-1, 1]) * rng.uniform(0.3, 0.5), rx * rng.uniform(0.12, 0.2)), hair,
                 line=0.8, shade=0.3)


def _figure(p: Painter, palette: Palette, rng: np.random.Generator) -> None:
    """A character bust of random size, place and tilt, drawn back to front."""
    rx = rng.uniform(0.15, 0.3)
    head = _Head(cx=rng.uniform(0.3, 0.7), cy=rng.uniform(0.35, 0.55), rx=rx, ry=rx * rng.uniform(1.05, 1.25))
    p.tilt(rng.normal(0, 0.1), (head.cx, head.chin))
    _back_hair(p, palette.hair, rng, head)
    _clothes(p, palette, rng, head)
    _face(p, palette, rng, head)
    _front_hair(p, palette.hair, rng, head)


def render(seed: int, index: int, size: int = 256) -> np.ndarray:
    """Image `index` of `seed`: a (size, size, 3) uint8 RGB cel-shaded illustration.

    Depends only on (seed, index, size); all randomness comes from one generator seeded with both.
    """
    if seed < 0 or index < 0:
        raise ValueError(f"seed and index must be non-negative, got {seed}, {index}")
    rng = np.random.default_rng([seed, index])
    palette = make_palette(rng)
    painter = Painter(size, palette.background, light_angle=rng.uniform(-0.85, -0.15) * np.pi, ink=palette.ink,
                      line_width=rng.uniform(1.2, 2.2))
    _props(painter, palette, rng)
    _figure(painter, palette, rng)
    return painter.image


# ---------------------------------------------------------------- files and CLI


def _write_png(path: Path, rgb: np.ndarray) -> None:
    """Write atomically: a reader never sees a half-written image under the final name."""
    ok, buf = cv2.imencode(".png", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), _PNG_PARAMS)
    if not ok:
        raise ColorizeError(f"{path}: PNG encoding failed", reason="write_failed")
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        tmp.write_bytes(buf.tobytes())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def generate(out_dir: str | os.PathLike, count: int, seed: int = 0, size: int = 256) -> list[Path]:
    """Render images 0..count-1 of `seed` into `out_dir` as PNGs; returns their paths in order."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for index in range(count):
        path = out / file_name(seed, index)
        _write_png(path, render(seed, index, size))
        paths.append(path)
    return paths


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Flags of `colorize demo-data`."""
    parser.add_argument("--out", required=True, type=Path, metavar="DIR", help="output folder for the PNG images")
    parser.add_argument("--count", type=int, default=512, metavar="N", help="number of images (default: 512)")
    parser.add_argument("--seed", type=int, default=0, metavar="S", help="random seed, >= 0 (default: 0)")
    parser.add_argument("--size", type=int, default=256, metavar="PX", help="image side in pixels (default: 256)")
    parser.add_argument("--overwrite", action="store_true",
                        help="write into a non-empty folder, deleting demo images left from an earlier run")


def _prepare(out: Path, overwrite: bool, keep: set[str]) -> None:
    """Refuse a non-empty output folder unless overwriting; then drop stale demo images only."""
    if out.exists() and not out.is_dir():
        raise ColorizeError(f"{out}: exists and is not a folder", reason="not_a_folder")
    if not out.exists() or not any(out.iterdir()):
        return
    if not overwrite:
        raise ColorizeError(f"{out}: output folder is not empty (pass --overwrite to write into it)",
                             reason="not_empty")
    for path in out.iterdir():
        if _NAME.fullmatch(path.name) and path.name not in keep:
            path.unlink()


def run(args: argparse.Namespace) -> int:
    """Validate the flags, prepare the output folder and write the images."""
    if args.count < 1:
        raise ColorizeError(f"--count must be at least 1, got {args.count}", reason="bad_value")
    if args.seed < 0:
        raise ColorizeError(f"--seed must be non-negative, got {args.seed}", reason="bad_value")
    if args.size < _MIN_SIZE:
        raise ColorizeError(f"--size must be at least {_MIN_SIZE}, got {args.size}",
                             reason="bad_value")
    _prepare(args.out, args.overwrite, {file_name(args.seed, i) for i in range(args.count)})
    start = time.perf_counter()
    generate(args.out, args.count, args.seed, args.size)
    elapsed = time.perf_counter() - start
    print(f"wrote {args.count} demo images to {args.out} ({args.count / elapsed:.0f} images/s); "
          "they are a procedural stand-in for real art, see docs/demo-data.md")
    return 0

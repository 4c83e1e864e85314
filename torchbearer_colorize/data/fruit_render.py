"""The built-in fruit set: 30 classes of rendered fruit turning in front of white, standing in for Fruits-360.

Fruits-360 films each fruit while a motor turns it in front of a white sheet and crops the frames to 100 x 100
pixels; when it is not on disk (offline runs, tests) these renders take its place. Each fruit is a body of
revolution about its stem axis (a profile gives the squared half-width r(t)^2 at height t in [-1, 1]), bent
for bananas and dented for a stem cavity. Frame k of an instance shows it turned by 360 k / frames degrees:
its skin, painted once per instance on a periodic (height x longitude) map of albedo, bump and gloss, slides
round, while an oval cross-section, a wobbling axis and swinging stems change the outline. Soft studio light
comes from the upper left, with a highlight; the background is pure white.

Train and test images show different instances, so no test image is a near-copy of a training frame. Every
image is a pure function of (split, class, index): its randomness comes from
``np.random.default_rng([VERSION, split_id, class_index, instance])``.
"""
import functools
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Tuple

import numpy as np

from ..errors import UserError
from .cache import cached_array, default_cache_dir, fingerprint
from .paintings import ImageSplits

LABEL = "built-in fruit set, not Fruits-360"
VERSION = 1  # bump when the recipe changes: it is part of every cache key and run fingerprint
SIZE = 100  # Fruits-360 images are 100 x 100
TRAIN_PER_CLASS = 150
TEST_PER_CLASS = 50

# split -> (id in the seed, instances per class, frames per instance); instances x frames = per class
_SPLITS = {"train": (0, 3, 50), "test": (1, 2, 25)}
# Image i of a class is instance i % instances at frame (i // instances) * _STRIDE % frames. The
# stride is coprime with both frame counts, so every frame is used once and any prefix of a class
# (a --limit run) already shows every instance from all round.
_STRIDE = 19

_TEX_ROWS, _TEX_COLS = 128, 256  # skin map: rows span the height, columns the full turn


def _unit(v):
    # Python floats, so the float32 image arithmetic is not promoted to float64.
    return tuple((np.asarray(v) / np.linalg.norm(v)).tolist())


_LIGHT = _unit([-0.45, -0.55, 0.70])  # upper left
_HALFWAY = _unit(np.add(_LIGHT, [0, 0, 1]))  # viewer on +z
_WRAP, _AMBIENT = 0.35, 0.30  # soft studio light: the shadow side is darker, never black
_LEAF_GREEN = (0.25, 0.50, 0.12)


@dataclass(frozen=True)
class Fruit:
    """A class: what every instance of it shares. Colours are sRGB in [0, 1]."""
    name: str
    shape: str  # key of _PROFILES
    aspect: float  # height / width of the body (for a banana: length / thickness)
    color: Tuple[float, float, float]
    color2: Tuple[float, float, float] = (0.0, 0.0, 0.0)  # blush, stripes, spots, seeds, ...
    textures: Tuple[str, ...] = ()  # keys of _TEXTURES, applied in order
    gloss: float = 0.3  # strength of the specular highlight
    shine: float = 20.0  # its exponent: higher is a smaller, sharper spot
    top: Optional[str] = None  # what grows out of the top: a key of _TOP_HEIGHT
    top_color: Tuple[float, float, float] = (0.38, 0.26, 0.12)
    dent: float = 0.0  # depth of the stem cavity, as a share of the half-height
    top_mark: Optional[Tuple[Tuple[float, float, float], float]] = None  # (colour, size) at the stem end
    bottom_mark: Optional[Tuple[Tuple[float, float, float], float]] = None  # and at the blossom end
    scale: float = 0.84  # the longer half-axis of the body, in half-frames
    blush: float = 0.85  # how far the blushed cheek goes towards colour2


FRUITS = (
    Fruit("red apple", "apple", 0.90, (0.74, 0.08, 0.09), (0.92, 0.70, 0.28), ("blush", "streaks", "lenticels"),
          gloss=0.45, shine=25, top="stem", dent=0.14, bottom_mark=((0.30, 0.20, 0.10), 0.10), blush=0.5),
    Fruit("green apple", "apple", 0.92, (0.56, 0.80, 0.24), (0.90, 0.78, 0.30), ("blush", "lenticels"),
          gloss=0.5, shine=25, top="stem_leaf", dent=0.14, bottom_mark=((0.35, 0.30, 0.12), 0.10)),
    Fruit("orange", "round", 0.97, (0.99, 0.55, 0.04), textures=("pores",), gloss=0.3, shine=15,
          top="nub", top_color=(0.40, 0.45, 0.15), bottom_mark=((0.75, 0.40, 0.05), 0.06)),
    Fruit("lemon", "lemon", 1.30, (0.99, 0.86, 0.15), textures=("pores",), gloss=0.35, shine=15),
    Fruit("banana", "banana", 3.3, (0.98, 0.84, 0.22), (0.36, 0.22, 0.08), ("ridges", "spots"),
          gloss=0.2, shine=12, top="banana", top_color=(0.45, 0.45, 0.18),
          bottom_mark=((0.20, 0.14, 0.08), 0.06), scale=0.92),
    Fruit("pear", "pear", 1.40, (0.74, 0.78, 0.28), (0.55, 0.42, 0.18), ("speckle", "blush"),
          gloss=0.25, shine=15, top="stem", bottom_mark=((0.30, 0.22, 0.10), 0.08)),
    Fruit("plum", "round", 1.10, (0.34, 0.07, 0.24), textures=("bloom", "suture"), gloss=0.35, shine=20,
          top="stem", top_color=(0.40, 0.35, 0.15), dent=0.06),
    Fruit("kiwi", "egg", 1.28, (0.50, 0.36, 0.18), (0.30, 0.20, 0.10), ("fuzz", "speckle"), gloss=0.03,
          top_mark=((0.30, 0.22, 0.12), 0.08), bottom_mark=((0.28, 0.20, 0.10), 0.05)),
    Fruit("strawberry", "strawberry", 1.18, (0.86, 0.07, 0.10), (0.95, 0.85, 0.35), ("seeds",),
          gloss=0.6, shine=30, top="calyx", top_color=_LEAF_GREEN),
    Fruit("cherry", "round", 0.95, (0.52, 0.02, 0.07), gloss=0.8, shine=60, top="long_stem",
          top_color=(0.35, 0.42, 0.12), dent=0.12),
    Fruit("peach", "round", 0.96, (0.99, 0.72, 0.32), (0.86, 0.22, 0.16), ("blush", "fuzz", "suture"),
          gloss=0.06, dent=0.05),
    Fruit("lime", "lemon", 1.12, (0.34, 0.64, 0.12), textures=("pores",), gloss=0.4, shine=15),
    Fruit("grapefruit", "round", 0.94, (0.98, 0.78, 0.38), (0.97, 0.48, 0.36), ("blush", "pores"),
          gloss=0.3, shine=15, top="nub", top_color=(0.45, 0.45, 0.15)),
    Fruit("mango", "mango", 1.30, (0.95, 0.68, 0.14), (0.86, 0.22, 0.14), ("green_end", "blush", "lenticels"),
          gloss=0.35, shine=20, top="nub", top_color=(0.30, 0.25, 0.10)),
    Fruit("avocado", "egg", 1.38, (0.17, 0.26, 0.07), textures=("pebbles",), gloss=0.15, shine=10,
          top="nub", top_color=(0.30, 0.22, 0.10)),
    Fruit("eggplant", "eggplant", 1.75, (0.23, 0.06, 0.24), gloss=0.9, shine=40, top="calyx",
          top_color=(0.30, 0.45, 0.15)),
    Fruit("tomato", "round", 0.84, (0.92, 0.14, 0.07), textures=("lobes",), gloss=0.7, shine=35,
          top="calyx", top_color=_LEAF_GREEN, dent=0.08),
    Fruit("blueberry", "round", 0.88, (0.20, 0.24, 0.50), textures=("bloom", "bloom"), gloss=0.15,
          top_mark=((0.10, 0.10, 0.25), 0.16)),
    Fruit("raspberry", "raspberry", 1.0, (0.84, 0.10, 0.28), textures=("drupelets",), gloss=0.55, shine=40),
    Fruit("apricot", "round", 1.0, (0.99, 0.58, 0.12), (0.90, 0.32, 0.08), ("blush", "fuzz", "suture"),
          gloss=0.1, dent=0.05),
    Fruit("coconut", "round", 1.04, (0.46, 0.30, 0.15), (0.22, 0.13, 0.06), ("fibres",), gloss=0.0,
          top_mark=((0.15, 0.10, 0.05), 0.14)),
    Fruit("pomegranate", "round", 0.96, (0.76, 0.13, 0.11), (0.90, 0.58, 0.38), ("blush",), gloss=0.4,
          shine=20, top="crown"),
    Fruit("fig", "fig", 1.18, (0.36, 0.19, 0.30), (0.48, 0.52, 0.26), ("green_end", "speckle"), gloss=0.25,
          shine=15, top="stem", top_color=(0.40, 0.40, 0.18)),
    Fruit("cucumber", "long", 2.3, (0.14, 0.34, 0.09), (0.55, 0.70, 0.32), ("faint_stripes", "warts"),
          gloss=0.45, shine=20, top="nub", top_color=(0.40, 0.40, 0.15)),
    Fruit("carrot", "carrot", 2.9, (0.95, 0.45, 0.05), textures=("rings",), gloss=0.15, top="stump",
          top_color=(0.35, 0.50, 0.15), scale=0.88),
    Fruit("pepper red", "pepper", 1.08, (0.80, 0.04, 0.04), textures=("pepper_lobes",), gloss=0.9, shine=45,
          top="pepper", top_color=(0.22, 0.45, 0.10), dent=0.10),
    Fruit("pepper yellow", "pepper", 1.02, (0.99, 0.78, 0.05), textures=("pepper_lobes",), gloss=0.9,
          shine=45, top="pepper", top_color=(0.22, 0.45, 0.10), dent=0.10),
    Fruit("grape white", "round", 1.16, (0.76, 0.84, 0.42), textures=("bloom",), gloss=0.5, shine=30,
          top="stem", top_color=(0.45, 0.42, 0.20)),
    Fruit("watermelon", "round", 1.12, (0.12, 0.34, 0.09), (0.58, 0.74, 0.36), ("stripes",), gloss=0.35,
          shine=15, top="nub", top_color=(0.40, 0.35, 0.15)),
    Fruit("passion fruit", "round", 1.04, (0.32, 0.11, 0.26), (0.75, 0.60, 0.55), ("pebbles", "speckle"),
          gloss=0.3, shine=15, top="nub", top_color=(0.30, 0.35, 0.12)),
)
CLASSES = tuple(fruit.name for fruit in FRUITS)


# ----------------------------------------------------------------------------------------- shapes

def _spow(q, e):
    """Sign-keeping power: profiles stay negative (outside) beyond their ends instead of turning NaN."""
    return np.sign(q) * np.abs(q) ** e


def _smax(a, b, k):
    """A smooth maximum, so two lobes of a profile (pear, lemon tips) join without a crease."""
    return 0.5 * (a + b + np.sqrt((a - b) ** 2 + k * k))


# Squared half-width at height t (top -1, bottom +1), up to scale; negative beyond the ends. Any
# extra factor is kept positive so that nothing reappears above or below the fruit.
_PROFILES = {
    "round": lambda t: 1 - t * t,
    "apple": lambda t: (1 - t * t) * (1 - 0.22 * np.clip(t, -1.5, 1.5)) ** 2,  # shoulders wider
    "lemon": lambda t: _smax(1 - (t / 0.86) ** 2, 0.045 * (1 - ((np.abs(t) - 0.86) / 0.14) ** 2), 0.06),
    "pear": lambda t: _smax(0.30 * (1 - ((t + 0.45) / 0.55) ** 2), 1 - ((t - 0.30) / 0.70) ** 2, 0.08),
    "egg": lambda t: (1 - t * t) * (1 + 0.22 * np.clip(t, -1.5, 1.5)) ** 2,
    "mango": lambda t: (1 - t * t) * (1 + 0.15 * np.clip(t, -1.5, 1.5)) ** 2,
    "fig": lambda t: (1 - t * t) * np.clip((t + 1.35) / 2.35, 0.05, None) ** 1.6,
    "eggplant": lambda t: (1 - t * t) * (0.42 + 0.58 * np.clip((t + 1) / 2, 0, 1.2) ** 0.8) ** 2,
    "long": lambda t: _spow(1 - t ** 4, 0.7),
    "carrot": lambda t: _spow(1 - t ** 8, 0.5) * np.clip((1.06 - t) / 2.06, 0.02, None) ** 2,
    "banana": lambda t: _spow(1 - t * t, 0.8),
    "pepper": lambda t: _spow(1 - t ** 4, 0.8) * (1 - 0.14 * np.clip(t, -1.5, 1.5)) ** 2,
    "strawberry": lambda t: _spow(1 - t ** 4, 0.6) * np.clip((1.12 - t) / 2.12, 0.02, None) ** 1.6,
    "raspberry": lambda t: _spow(1 - t * t, 0.8) * (1 - 0.18 * np.clip(t, -1.5, 1.5)) ** 2,
}


@functools.lru_cache(maxsize=None)
def _profile_peak(shape):
    """Largest squared half-width of a profile, so `aspect` and `scale` mean what they say."""
    return float(_PROFILES[shape](np.linspace(-1, 1, 2001)).max())


# ------------------------------------------------------------------------------------------ skins

def _smooth(lo, hi, x):
    x = np.clip((x - lo) / (hi - lo), 0, 1)
    return x * x * (3 - 2 * x)


class _Skin:
    """The (height x longitude) maps of one instance: albedo, bump height (in half-frames) and gloss."""

    def __init__(self, rng, fruit):
        self.rng, self.fruit = rng, fruit
        self.t = np.linspace(-1, 1, _TEX_ROWS)[:, None]
        self.lon = np.arange(_TEX_COLS)[None, :] * (2 * np.pi / _TEX_COLS)
        self.albedo = np.tile(np.asarray(fruit.color, dtype=float), (_TEX_ROWS, _TEX_COLS, 1))
        self.bump = np.zeros((_TEX_ROWS, _TEX_COLS))
        self.gloss = np.ones((_TEX_ROWS, _TEX_COLS))

    def noise(self, sigma_t, sigma_lon):
        """Smooth unit-variance noise, periodic in longitude (sigmas in texels), by FFT filtering."""
        white = self.rng.standard_normal((_TEX_ROWS, _TEX_COLS))
        ky = np.fft.fftfreq(_TEX_ROWS)[:, None]
        kx = np.fft.rfftfreq(_TEX_COLS)[None, :]
        gain = np.exp(-2 * np.pi ** 2 * ((ky * sigma_t) ** 2 + (kx * sigma_lon) ** 2))
        field = np.fft.irfft2(np.fft.rfft2(white) * gain, s=white.shape)
        return (field - field.mean()) / (field.std() + 1e-12)

    def mix(self, weight, color):
        self.albedo += np.asarray(weight)[..., None] * (np.asarray(color) - self.albedo)

    def shade(self, factor):
        self.albedo *= np.asarray(factor)[..., None]

    def emboss(self, height):
        self.bump += height

    def lattice(self, around, rows, jitter=0.12):
        """Distance (in cells) to the nearest point of a staggered lattice: seeds, drupelets."""
        v = (self.t + 1) / 2 * rows + jitter * self.noise(2, 2)
        u = self.lon / (2 * np.pi) * around + 0.5 * (np.floor(v) % 2) + jitter * self.noise(2, 2)
        return np.hypot(u - np.floor(u) - 0.5, v - np.floor(v) - 0.5)

    def spots(self, sigma_t, sigma_lon, lo, hi, mix=0.0, color=None, darken=0.0, bump=0.0):
        """Where smooth noise runs above lo..hi: `mix` of the way to `colour` (the second colour by default),
        darker by `darken`, raised by `bump` (sunk if negative)."""
        spots = _smooth(lo, hi, self.noise(sigma_t, sigma_lon))
        self.mix(mix * spots, self.fruit.color2 if color is None else color)
        self.shade(1 - darken * spots)
        self.emboss(bump * spots)

    def grain(self, sigma_t, sigma_lon, shade, bump=0.0, gloss=1.0):
        """Smooth noise straight into brightness and bump height; `gloss` dulls the highlight."""
        grain = self.noise(sigma_t, sigma_lon)
        self.shade(1 + shade * grain)
        self.emboss(bump * grain)
        self.gloss *= gloss

    def marks(self):
        """Darker spots where the stem sits and where the flower was: they show which end is up."""
        for mark, pole in ((self.fruit.top_mark, -1), (self.fruit.bottom_mark, 1)):
            if mark:
                color, size = mark
                self.mix(_smooth(size, 0.4 * size, np.abs(self.t - pole) + 0.02 * self.noise(1, 2)), color)


def _blush(s):  # one cheek coloured by the sun, fading out with soft, uneven borders
    side = np.cos(s.lon - s.rng.uniform(0, 2 * np.pi)) + 0.35 * s.noise(14, 10)
    s.mix(s.fruit.blush * _smooth(-0.2, 0.9, side), s.fruit.color2)


def _stripes(s):  # watermelon: wavy pale bands between dark green ones, meeting at the poles
    wave = np.cos(14 * s.lon + 1.4 * s.noise(8, 4)) + 0.35 * s.noise(1.2, 1.2)
    s.mix(_smooth(-0.05, 0.25, -wave), s.fruit.color2)


def _faint_stripes(s):  # cucumber: pale streaks from the blossom end
    wave = np.cos(9 * s.lon + 0.8 * s.noise(10, 4)) + 0.5 * s.noise(2, 2)
    s.mix(0.35 * _smooth(0.3, 1.2, wave) * _smooth(-0.6, 1.0, s.t), s.fruit.color2)


def _rings(s):  # carrot: thin dark rings around the root
    s.spots(0.5, 14, 1.2, 2.0, darken=0.3, bump=-0.006)
    s.grain(8, 1, 0.05)


def _fibres(s):  # coconut: hair running from pole to pole
    hair = s.noise(9, 0.7)
    s.mix(_smooth(-0.6, 1.0, hair), s.fruit.color2)
    s.emboss(0.006 * hair)
    s.grain(0.8, 0.8, 0.10)


def _seeds(s):  # strawberry: yellow achenes sitting in small pits
    d = s.lattice(around=26, rows=13)
    s.emboss(-0.010 * np.exp(-(d / 0.28) ** 2))
    s.mix(0.9 * _smooth(0.20, 0.12, d), s.fruit.color2)
    s.shade(1 - 0.25 * np.exp(-(d / 0.3) ** 2))


def _drupelets(s):  # raspberry: a dome per cell, each with its own glint and a dark seam
    dome = np.sqrt(np.clip(1 - (s.lattice(around=15, rows=11, jitter=0.08) / 0.62) ** 2, 0, 1))
    s.emboss(0.028 * dome)
    s.shade(0.55 + 0.45 * dome)
    s.gloss *= dome ** 2


def _bloom(s):  # plum, blueberry, grape: a dusty waxy film that dulls the colour and the shine
    s.mix(0.18 + 0.05 * s.noise(1.5, 1.2) + 0.04 * s.noise(8, 6), (0.72, 0.76, 0.84))
    s.gloss *= 0.5


def _suture(s):  # peach, apricot, plum: a groove from stem to tip on one side
    around = np.abs((s.lon - s.rng.uniform(0, 2 * np.pi) + np.pi) % (2 * np.pi) - np.pi)
    groove = np.exp(-(around / 0.07) ** 2) * (1 - np.abs(s.t) ** 6)
    s.emboss(-0.02 * groove)
    s.shade(1 - 0.15 * groove)


_TEXTURES = {  # what Fruit.textures name, each painted on the _Skin in turn
    "pores": lambda s: s.grain(0.7, 0.9, 0.04, bump=0.0025),  # citrus: many tiny pits that catch the light
    "pebbles": lambda s: s.grain(1.3, 1.6, 0.10, bump=0.008),  # avocado, passion fruit: a coarse rind
    "fuzz": lambda s: s.grain(0.6, 0.6, 0.03, gloss=0.3),  # peach, kiwi: hairs break up colour and highlight
    "speckle": lambda s: s.spots(0.8, 1.0, 1.2, 2.0, mix=0.75),  # pear russet, kiwi hairs, fig flecks
    "lenticels": lambda s: s.spots(0.7, 0.9, 1.9, 2.5, mix=0.6, color=(0.96, 0.92, 0.62)),  # apple, mango
    "spots": lambda s: s.spots(1.3, 1.3, 1.7, 2.4, mix=0.8),  # banana sugar spots
    "warts": lambda s: s.spots(0.9, 1.2, 1.5, 2.3, mix=0.5, bump=0.010),  # cucumber: raised pale bumps
    "streaks": lambda s: s.spots(8, 0.8, 0.2, 1.6, darken=0.3),  # apple: dark stripes from stem to blossom end
    # Mango, fig: the stem end ripens last and stays green.
    "green_end": lambda s: s.mix(0.8 * _smooth(0.2, -0.6, s.t + 0.25 * s.noise(6, 10)), (0.45, 0.58, 0.18)),
    "ridges": lambda s: s.emboss(  # banana: five flat faces with edges between them
        -0.030 * np.abs(np.sin(2.5 * (s.lon - s.rng.uniform(0, 2 * np.pi))))),
    "lobes": lambda s: s.emboss(0.010 * np.cos(6 * s.lon) * (1 - s.t ** 2)),  # tomato: faint ribs from the stem
    "pepper_lobes": lambda s: s.emboss(  # bell pepper: three or four deep lobes
        0.05 * np.cos(int(s.rng.integers(3, 5)) * s.lon + 0.3 * s.noise(20, 20)) * (1 - s.t ** 4)),
    **{f.__name__[1:]: f for f in (_blush, _stripes, _faint_stripes, _rings, _fibres, _seeds, _drupelets, _bloom,
                                   _suture)},
}


def _hue_rotation(degrees):
    """RGB rotation about the gray axis: shifts hue, keeps brightness."""
    c, s = np.cos(np.radians(degrees)), np.sin(np.radians(degrees))
    cross = np.array([[0, -1, 1], [1, 0, -1], [-1, 1, 0]]) / np.sqrt(3)
    return c * np.eye(3) + s * cross + (1 - c) / 3 * np.ones((3, 3))


# -------------------------------------------------------------------------------------- instances

# What grows out of the top (a method of _Top) and how far it reaches above the body, in half-frames.
_TOP_HEIGHT = {None: 0.0, "stem": 0.16, "stem_leaf": 0.22, "long_stem": 0.42, "nub": 0.03, "calyx": 0.06,
               "crown": 0.17, "stump": 0.06, "pepper": 0.15, "banana": 0.0}


def _split(split):
    if split not in _SPLITS:
        raise ValueError(f"split must be 'train' or 'test', not {split!r}")
    return _SPLITS[split]


class _Instance:
    """One physical fruit: its size, pose, wobble and painted skin."""

    def __init__(self, split, class_index, instance):
        self.fruit = fruit = FRUITS[class_index]
        rng = np.random.default_rng([VERSION, _split(split)[0], class_index, instance])
        size = fruit.scale * rng.uniform(0.86, 1.04)
        aspect = fruit.aspect * rng.uniform(0.94, 1.06)
        half_height, half_width = (size, size / aspect) if aspect >= 1 else (size * aspect, size)
        # Leave room for the stem: the whole fruit, not just the body, fills the frame.
        top = _TOP_HEIGHT[fruit.top]
        room = 0.93 - top / 2
        if half_height > room:
            half_height, half_width = room, half_width * room / half_height
        self.half_height, self.half_width = half_height, half_width
        if fruit.shape == "banana":
            self.tilt = float(rng.choice([-1, 1]) * rng.uniform(0.25, 0.75))  # bananas lie across the frame
        else:
            self.tilt = float(np.clip(rng.normal(0, 0.2), -0.4, 0.4))  # in-plane, radians
        self.centre = (rng.uniform(-0.04, 0.04), top / 2 + rng.uniform(-0.04, 0.04))

        skin = _Skin(rng, fruit)
        for name in fruit.textures:
            _TEXTURES[name](skin)
        skin.marks()
        skin.grain(12, 20, 0.05)  # no fruit is one flat colour
        jitter = _hue_rotation(rng.uniform(-8, 8)) * rng.uniform(0.9, 1.08)
        albedo = skin.albedo @ jitter.T
        gray = albedo.mean(axis=-1, keepdims=True)
        albedo = np.clip(gray + (albedo - gray) * rng.uniform(0.88, 1.12), 0, 1)
        # rows x cols x 5: albedo rgb, bump, gloss
        self.skin = np.concatenate([albedo, skin.bump[..., None], skin.gloss[..., None]], axis=-1).astype(np.float32)
        self.body_color = tuple(np.clip(np.asarray(fruit.color) @ jitter.T, 0, 1))
        self.phase = rng.uniform(0, 2 * np.pi)  # turn at frame 0
        # A slightly oval cross-section makes the outline breathe as it turns.
        self.oval, self.oval_phase = rng.uniform(0.02, 0.07), rng.uniform(0, 2 * np.pi)
        self.wobble = rng.uniform(0.0, 0.08)  # tilt of the body axis against the turning axis
        self.bow = rng.uniform(0.22, 0.34) * half_height  # banana curvature, in half-frames
        self.stem_azimuth, self.stem_lean = rng.uniform(0, 2 * np.pi), rng.uniform(0.15, 0.45)
        self.sepals = int(rng.integers(5, 8))


# make_split renders class by class, so a few cached instances suffice.
_instance = functools.lru_cache(maxsize=16)(_Instance)


def _pose(split, index):
    """(instance, turn in radians) of image `index` of a class."""
    _, instances, frames = _split(split)
    if not 0 <= index < instances * frames:
        raise IndexError(f"{split} has {instances * frames} images per class, not index {index}")
    frame = (index // instances) * _STRIDE % frames
    return index % instances, 2 * np.pi * frame / frames


# -------------------------------------------------------------------------------------- rendering

def render(split, class_index, index, size=SIZE):
    """Image `index` of class `class_index` in split 'train' or 'test', as size x size x 3 uint8."""
    if not 0 <= class_index < len(FRUITS):
        raise IndexError(f"class_index must be in [0, {len(FRUITS)}), not {class_index}")
    instance, turn = _pose(split, index)
    inst = _instance(split, class_index, instance)
    turn += inst.phase
    canvas = _Canvas(inst, size)
    alpha, color = _body(inst, canvas, turn)
    image = 1 + alpha[..., None] * (color - 1)  # over a white background
    for alpha, color in getattr(_Top(inst, canvas, turn), inst.fruit.top)() if inst.fruit.top else []:
        image += alpha[..., None] * (color - image)
    return np.clip(image * 255 + 0.5, 0, 255).astype(np.uint8)


class _Canvas:
    """The pixel grid in body coordinates: tilt undone, the fruit's axis vertical, y pointing down."""

    def __init__(self, inst, size):
        self.px = size / 2  # pixels per half-frame
        cos, sin = float(np.cos(inst.tilt)), float(np.sin(inst.tilt))
        grid = ((np.arange(size) + 0.5) / self.px - 1).astype(np.float32)
        self.x = cos * grid[None, :] + sin * grid[:, None] - inst.centre[0]
        self.y = -sin * grid[None, :] + cos * grid[:, None] - inst.centre[1]

    def stroke(self, p0, p1, width):
        """A stroke from p0 to p1, `width(s)` its half-width at s in [0, 1] along it.

        Returns its antialiased coverage and the signed distance across it in [-1, 1], which callers
        turn into cylinder or folded-leaf shading.
        """
        dx, dy = p1[0] - p0[0], p1[1] - p0[1]
        rx, ry = self.x - p0[0], self.y - p0[1]
        s = np.clip((rx * dx + ry * dy) / (dx * dx + dy * dy + 1e-12), 0, 1)
        ex, ey = rx - s * dx, ry - s * dy
        half = width(s)
        dist = np.sqrt(ex * ex + ey * ey)
        alpha = np.clip((half - dist) * self.px + 0.5, 0, 1)
        across = np.minimum(dist / (half + 1e-9), 1) * np.sign(ex * dy - ey * dx)
        return alpha, across


def _axis(inst, t, turn):
    """Horizontal offset of the body axis at height t: the wobble, and a banana's bow."""
    offset = inst.wobble * math.sin(turn) * t * inst.half_width
    if inst.fruit.shape == "banana":
        # Seen side-on the bow is full; turned a quarter it points at the camera and looks straight.
        offset = offset + inst.bow * math.cos(turn) * (t * t - 1 / 3)
    return offset


def _body(inst, canvas, turn):
    """Alpha and shaded colour of the fruit's body over the whole grid."""
    fruit = inst.fruit
    spacing = 1 / canvas.px
    t = canvas.y / inst.half_height
    x = canvas.x - _axis(inst, t, turn)
    half_width = inst.half_width * (1 + inst.oval * math.cos(2 * turn + inst.oval_phase))
    if fruit.dent:
        # Pull the top in around the axis: a cavity for the stem, shaded by the same normals.
        t = t - fruit.dent * np.exp(-(x / (0.3 * half_width)) ** 2) * np.clip(-t, 0, 1) ** 4
    r2 = (half_width ** 2 / _profile_peak(fruit.shape)) * _PROFILES[fruit.shape](t)
    f = r2 - x * x
    fy, fx = np.gradient(f, spacing)
    # F / |grad F| is the distance to the outline near it: a one-pixel ramp antialiases the edge.
    alpha = np.clip(f / (np.sqrt(fx * fx + fy * fy) + 1e-9) * canvas.px + 0.5, 0, 1)

    # The point under pixel (x, t) has longitude asin(x / r) + turn: the skin slides round as it turns.
    height = np.sqrt(np.maximum(f, 0))
    lon = turn % (2 * np.pi) + 2 * np.pi + np.arcsin(np.clip(x / np.sqrt(np.maximum(r2, 1e-8)), -1, 1))
    rows = ((np.clip(t, -1, 1) + 1) * ((_TEX_ROWS - 1) / 2) + 0.5).astype(np.intp)
    cols = (lon * (_TEX_COLS / (2 * np.pi))).astype(np.intp) % _TEX_COLS  # lon > 0, so truncation floors
    skin = inst.skin[rows, cols]
    by, bx = np.gradient(skin[..., 3], spacing)
    # Normal of the surface z = sqrt(F) + bump, scaled by sqrt(F) so it stays finite at the outline.
    nx, ny, nz = -0.5 * fx - height * bx, -0.5 * fy - height * by, height
    norm = 1 / (np.sqrt(nx * nx + ny * ny + nz * nz) + 1e-12)
    diffuse = np.clip(((nx * _LIGHT[0] + ny * _LIGHT[1] + nz * _LIGHT[2]) * norm + _WRAP) / (1 + _WRAP), 0, 1)
    rim = 0.5 + 0.5 * np.sqrt(nz * norm)  # surfaces turning away from the camera darken
    shade = (_AMBIENT + (1 - _AMBIENT) * diffuse) * rim
    facing = np.clip((nx * _HALFWAY[0] + ny * _HALFWAY[1] + nz * _HALFWAY[2]) * norm, 0, 1)
    spec = fruit.gloss * skin[..., 4] * facing ** fruit.shine
    return alpha, skin[..., :3] * shade[..., None] + spec[..., None]


# --------------------------------------------------------------------------- stems, leaves, sepals

class _Top:
    """What grows out of the top in one frame, as (coverage, colour) layers, back to front.

    Stalks lean from the axis towards the instance's stem azimuth, so they swing round as the fruit turns.
    """

    def __init__(self, inst, canvas, turn):
        self.inst, self.canvas, self.turn = inst, canvas, turn

    def base(self, depth=0.0):
        """Where the stem leaves the body, `depth` (a share of the half-height) below the rim of the cavity."""
        return float(_axis(self.inst, -1.0, self.turn)), -self.inst.half_height * (1 - self.inst.fruit.dent - depth)

    def swing(self, base, lean, length, offset=0.0):
        azimuth = self.turn + self.inst.stem_azimuth + offset
        return base[0] + length * np.sin(lean) * np.sin(azimuth), base[1] + -length * np.cos(lean)

    def stalk(self, p0, p1, w0, w1, color):
        """A round stalk tapering from half-width w0 to w1, lit from the left."""
        alpha, across = self.canvas.stroke(p0, p1, lambda s: w0 + (w1 - w0) * s)
        light = 0.55 + 0.45 * np.sqrt(1 - across ** 2) - 0.15 * across
        return alpha, np.asarray(color, dtype=np.float32) * light[..., None]

    def blade(self, p0, p1, width, color):
        """A leaf folded along its midrib: one half catches more light, the rib is pale."""
        alpha, across = self.canvas.stroke(p0, p1, lambda s: width * np.sin(np.pi * (0.12 + 0.88 * s)) ** 0.8)
        light = np.where(across < 0, 1.05, 0.80) + 0.25 * np.exp(-(across / 0.12) ** 2)
        return alpha, np.asarray(color, dtype=np.float32) * light[..., None]

    def stalks(self, depth, *segments):
        """Stalk segments end to end from the top, each (lean, length, azimuth offset, base and tip half-width)."""
        base, layers = self.base(depth), []
        for lean, length, offset, w0, w1 in segments:
            tip = self.swing(base, lean, length, offset)
            layers.append(self.stalk(base, tip, w0, w1, self.inst.fruit.top_color))
            base = tip
        return layers

    def stem(self):
        return self.stalks(0.04, (self.inst.stem_lean, 0.16 + 0.04 * self.inst.half_height, 0.0, 0.026, 0.018))

    def stem_leaf(self):
        base = self.base(-0.1)
        tip = (self.swing(base, 1.2, 0.32, 1.8)[0], base[1] - 0.12)  # the leaf sticks out sideways from the stem
        return self.stem() + [self.blade(base, tip, 0.065, _LEAF_GREEN)]

    def long_stem(self):  # cherry: a kink, so the stalk sways more at the tip than at the base
        return self.stalks(0.03, (0.35, 0.22, 0.0, 0.017, 0.015), (0.7, 0.2, 0.3, 0.015, 0.014))

    def nub(self):
        return self.stalks(0.02, (self.inst.stem_lean, 0.05, 0.0, 0.035, 0.028))

    def stump(self):  # carrot: the cut-off leaf stalks, a short stub nearly as wide as the shoulder
        width = 0.45 * self.inst.half_width
        return self.stalks(0.02, (0.2, 0.07, 0.0, width, 0.8 * width))

    def pepper(self):  # a thick stalk rising from the cavity, then hooking over
        return self.stalks(0.05, (0.15, 0.12, 0.0, 0.06, 0.045), (1.1, 0.08, 0.0, 0.045, 0.04))

    def banana(self):  # the stalk continues the bent axis beyond the top end
        p0, p1 = ((float(_axis(self.inst, t, self.turn)), t * self.inst.half_height) for t in (-0.82, -1.08))
        width = 0.3 * self.inst.half_width
        return [self.stalk(p0, p1, width, 0.8 * width, self.inst.fruit.top_color)]

    def calyx(self):
        """Sepals lying on the shoulders: each swings round with the fruit, those behind stay hidden."""
        inst, fruit = self.inst, self.inst.fruit
        length = {"strawberry": 0.75, "eggplant": 0.55}.get(fruit.shape, 0.35) * inst.half_width
        droop = {"strawberry": 0.45, "eggplant": 0.5}.get(fruit.shape, 0.3)
        base = self.base(0.03)
        angles, layers = self.turn + inst.stem_azimuth + 2 * np.pi * np.arange(inst.sepals) / inst.sepals, []
        for angle in sorted(angles, key=np.cos):  # back to front, so the nearer sepals overlap the farther
            if np.cos(angle) >= -0.35:
                tip = (base[0] + 0.95 * length * np.sin(angle),
                       base[1] + length * droop * (0.4 + max(np.cos(angle), 0)))
                layers.append(self.blade(base, tip, 0.3 * length, fruit.top_color))
        top = self.base()
        tip = self.swing(top, 0.3, 0.1 if fruit.shape in ("strawberry", "eggplant") else 0.07)
        return layers + [self.stalk(top, tip, 0.028, 0.02, np.asarray(fruit.top_color) * 0.85)]

    def crown(self):
        """Pomegranate: a short neck ending in pointed lobes that swing round with the fruit."""
        color = np.asarray(self.inst.body_color) * 0.8
        base = self.base(0.03)
        x, y = base[0], base[1] - 0.09
        neck = 0.13 * self.inst.half_width
        layers = [self.stalk(base, (x, y), neck, 0.9 * neck, color)]
        for angle in sorted(self.turn + self.inst.stem_azimuth + 2 * np.pi * np.arange(6) / 6, key=np.cos):
            side = np.sin(angle)
            p0, p1 = (x + 0.8 * neck * side, y + 0.01), (x + 1.6 * neck * side, y - 0.08)
            layers.append(self.stalk(p0, p1, 0.03, 0.006, color * (0.85 + 0.25 * max(np.cos(angle), 0))))
        return layers


# ----------------------------------------------------------------------------------------- splits

def make_split(split, classes, per_class, limit=None, size=SIZE):
    """Render a split. Returns (images uint8 N x size x size x 3, names list[str] like 'red apple/train-0007').

    Images come round-robin across `classes` (class 0 image 0, class 1 image 0, ..., class 0
    image 1, ...), so a `limit` keeps a prefix of the full split and renders only that prefix.
    """
    _, instances, frames = _split(split)
    if not 0 < per_class <= instances * frames:
        raise ValueError(f"per_class must be in [1, {instances * frames}] for {split}, not {per_class}")
    classes = list(classes)
    total = len(classes) * per_class
    count = total if limit is None else max(0, min(limit, total))
    images = np.empty((count, size, size, 3), dtype=np.uint8)
    names = [""] * count
    # Render class by class (its instances stay cached), writing each image to its round-robin slot.
    for slot, class_index in enumerate(classes):
        for index in range(per_class):
            position = index * len(classes) + slot
            if position >= count:
                break
            images[position] = render(split, class_index, index, size)
            names[position] = f"{CLASSES[class_index]}/{split}-{index:04d}"
    return images, names


def _chosen_classes(classes):
    """Class names from a count (the first ones) or from a list of names."""
    if isinstance(classes, (int, np.integer)) and not isinstance(classes, bool):
        if not 1 <= classes <= len(CLASSES):
            raise UserError(f"--classes {classes}: the built-in fruit set has 1 to {len(CLASSES)} classes")
        return list(CLASSES[:classes])
    names = [classes] if isinstance(classes, str) else list(classes)
    unknown = [name for name in names if name not in CLASSES]
    if unknown:
        raise UserError(f"--classes: unknown fruit {', '.join(map(repr, unknown))}; "
                        f"the built-in fruit set has {', '.join(CLASSES)}")
    if not names:
        raise UserError("--classes: name at least one fruit")
    if len(set(names)) != len(names):
        raise UserError(f"--classes: each fruit may be named once ({', '.join(names)})")
    return names


def builtin_fruit_splits(classes=len(CLASSES), cache_dir=None, limit=None, size=SIZE):
    """The built-in fruit set as ImageSplits: `classes` is a count (the first ones) or a list of names.

    ``limit`` keeps at most that many images in each split, taken round-robin across classes.
    Each split is cached in ``cache_dir`` (the package's image cache by default).
    """
    names = _chosen_classes(classes)
    indices = [CLASSES.index(name) for name in names]
    cache_dir = Path(cache_dir) if cache_dir else default_cache_dir()
    arrays, image_names = {}, {}
    for split, per_class in (("train", TRAIN_PER_CLASS), ("test", TEST_PER_CLASS)):
        def build(split=split, per_class=per_class):
            images, built_names = make_split(split, indices, per_class, limit, size)
            return images, {"names": built_names}

        key = fingerprint(VERSION, size, names, per_class, limit)
        arrays[split], meta = cached_array(cache_dir, f"fruits-{split}", key, build)
        image_names[split] = meta["names"]
    return ImageSplits(arrays["train"], arrays["test"], image_names["train"], image_names["test"], label=LABEL,
                       fingerprint=fingerprint("fruits", VERSION, size, names, TRAIN_PER_CLASS, TEST_PER_CLASS, limit))

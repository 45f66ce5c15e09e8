"""Train/test split by group, so near-duplicates of a test image never sit in the training set.

Emoji come in variants (five skin tones, man/woman/person, emoji-style selectors) that look almost alike;
splitting by file would leak test images into training.
"""

from __future__ import annotations

import hashlib
import re

SKIN_TONES = {"1f3fb", "1f3fc", "1f3fd", "1f3fe", "1f3ff"}
VARIANT_SELECTORS = {"fe0f", "fe0e"}  # emoji/text presentation: same picture
GENDER_SIGNS = {"2640", "2642"}  # "woman running" and "man running" are the same drawing
PEOPLE = {"1f468": "person", "1f469": "person", "1f9d1": "person"}  # man, woman, person
ZERO_WIDTH_JOINER = "200d"
IGNORED = SKIN_TONES | VARIANT_SELECTORS | GENDER_SIGNS
DEFAULT_TEST_FRACTION = 0.05


def emoji_group(stem: str) -> str:
    """The group key of an emoji file stem such as '1f44b-1f3fd': its code points without variant markers."""
    points = [p.lower() for p in re.split(r"[-_]", stem) if p]
    if not all(re.fullmatch(r"[0-9a-f]{4,6}", p) for p in points):
        return stem
    parts = "-".join(points).split(f"-{ZERO_WIDTH_JOINER}-")  # the joined emoji of a sequence
    kept = ["-".join(PEOPLE.get(p, p) for p in part.split("-") if p not in IGNORED) for part in parts]
    return f"-{ZERO_WIDTH_JOINER}-".join(part for part in kept if part) or stem  # a lone skin-tone swatch


def is_test(group: str, test_fraction: float = DEFAULT_TEST_FRACTION) -> bool:
    """Whether a group belongs to the test split: a stable hash, so the split never changes between runs."""
    if not 0.0 <= test_fraction <= 1.0:
        raise ValueError(f"the test fraction must be between 0 and 1, not {test_fraction}")
    digest = int.from_bytes(hashlib.sha256(group.encode()).digest()[:8], "big")
    return digest / 2**64 < test_fraction

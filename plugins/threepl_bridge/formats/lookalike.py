"""Codes that only look alike: ``FURN_78OO`` for ``FURN_7800``, a Cyrillic ``А`` for a Latin ``A``, a zero-width
space or a trailing blank. A 3PL row under such a code must not leave the real product looking absent."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable

# the Cyrillic and Greek letters that render like Latin ones (the common part of Unicode's confusables, UTS #39)
_CONFUSABLE = str.maketrans("АВЕКМНОРСТХаеорсухіїјѕԁɡΑΒΕΖΗΙΚΜΝΟΡΤΥΧοι", "ABEKMHOPCTXaeopcyxiijsdgABEZHIKMNOPTYXoi")


def skeleton(code: str) -> str:
    """What a code looks like: compatibility forms folded, homoglyphs as Latin, case, spaces, zero-width and
    separator characters ignored, O read as 0 and I/L as 1."""
    text = unicodedata.normalize("NFKC", code).translate(_CONFUSABLE).casefold()
    return "".join(c for c in text if c.isalnum()).translate(str.maketrans("oil", "011"))


class Lookalikes:
    """The known codes by what they look like, built once: each lookup is a dictionary read, so a snapshot with many
    unknown SKUs costs one pass over the products, not one per unknown row."""

    def __init__(self, known: Iterable[str]) -> None:
        self._by_shape: dict[str, list[str]] = {}
        for code in known:
            shape = skeleton(code)
            if shape:
                self._by_shape.setdefault(shape, []).append(code)

    def of(self, code: str) -> list[str]:
        """The known codes (other than ``code`` itself) that look like ``code``."""
        return [k for k in self._by_shape.get(skeleton(code), []) if k != code]


def lookalikes(code: str, known: Iterable[str]) -> list[str]:
    """The known codes (other than ``code`` itself) that look like ``code`` (one lookup; many: :class:`Lookalikes`)."""
    return Lookalikes(known).of(code)

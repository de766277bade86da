"""Text folded for search: lowercase, without diacritics, so that "nguyen" finds "Nguyễn".

The search index (`db/search.py`) stores folded copies of names, tags and post text, and
folds every query the same way. Changing this function changes what old index rows mean:
a change here needs a migration that rebuilds the index. On PostgreSQL the same idea is
`lower(unaccent(...))`, whose rules also map đ to d.
"""

from __future__ import annotations

import unicodedata

# Letters that carry their mark in the letter itself, so no Unicode decomposition removes it.
# Vietnamese đ/Đ is the one that matters here ("Đà Nẵng" must be found by "da nang"); the
# others are common in names of people on other servers.
_UNDECOMPOSED = str.maketrans(
    {
        "đ": "d",
        "ð": "d",
        "ø": "o",
        "ł": "l",
        "ħ": "h",
        "ı": "i",
        "ŧ": "t",
        "æ": "ae",
        "œ": "oe",
        "þ": "th",
    }
)


def fold(text: str) -> str:
    """`text` lowercased (case-folded), compatibility-decomposed and stripped of combining
    marks, with the letters that do not decompose mapped to their base letter."""
    # casefold first: "Đ" becomes "đ", which the table then maps; "ß" becomes "ss".
    decomposed = unicodedata.normalize("NFKD", text.casefold().translate(_UNDECOMPOSED))
    # NFKD turns full-width letters into ASCII ones too; marks (category M*) are dropped.
    bare = "".join(ch for ch in decomposed if not unicodedata.category(ch).startswith("M"))
    return unicodedata.normalize("NFC", bare)

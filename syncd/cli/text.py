"""Text from QuickBooks (or any remote) made safe to print on an operator's terminal."""

from __future__ import annotations

import unicodedata

# Cc: C0/C1 controls (ESC starts terminal escape sequences; CR rewrites a line); Cf: format
# characters such as the bidi overrides that reorder what is shown; Zl/Zp: line breaks.
_HIDDEN = frozenset({"Cc", "Cf", "Zl", "Zp"})


def shown(value: object) -> str:
    """``value`` as one printable line: every control or format character becomes ``?``."""
    text = "" if value is None else str(value)
    return "".join("?" if unicodedata.category(c) in _HIDDEN else c for c in text)

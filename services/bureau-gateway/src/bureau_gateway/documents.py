"""Identity documents as the bureaus look them up: normalised exactly as intake stores them, so that
`12.345.678-Z` and `12345678z` are the same applicant here too."""

from __future__ import annotations

MAX_DOCUMENT_LENGTH = 32
"""Far above the longest document (a CURP has 18 characters); anything longer is not a document."""

# Upper-case ASCII only, as intake does: full Unicode case mapping could turn a foreign letter into an
# ASCII one (the dotless i upper-cases to "I") and make a look-alike the same applicant.
_ASCII_UPPER = str.maketrans("abcdefghijklmnopqrstuvwxyz", "ABCDEFGHIJKLMNOPQRSTUVWXYZ")
_SEPARATORS = frozenset(".-/")


def normalise_document(raw: str) -> str:
    """`raw` without whitespace, `.`, `-` or `/`, letters upper-cased (intake's `normalise_document`)."""
    kept = (c for c in raw.strip() if not c.isspace() and c not in _SEPARATORS)
    return "".join(kept).translate(_ASCII_UPPER)

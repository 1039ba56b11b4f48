"""The integers the tables can hold: the bounds a number from outside (an id, a cursor, a
budget) is checked against before it reaches a query, since a database driver answers an
integer it cannot hold with an error of its own rather than with "no such row"."""

from __future__ import annotations

INTEGER_MAX = 2**31 - 1
"""The largest value of an ``Integer`` column on every database (PostgreSQL's INTEGER;
SQLite's integers hold more): step, event and log line ids."""

BIGINT_MAX = 2**63 - 1
"""The largest value of a ``BigInteger`` column, and of any SQLite integer: token budgets."""


def parse_row_id(text: str) -> int | None:
    """The row id ``text`` spells in ASCII decimal digits, or None when it spells none a row
    can have: digits of other scripts (``٣``, fullwidth, ``²``), signs, spaces, or a number
    past ``INTEGER_MAX``."""
    if not (text.isascii() and text.isdigit()) or len(text) > len(str(INTEGER_MAX)):
        return None
    row_id = int(text)
    return row_id if row_id <= INTEGER_MAX else None

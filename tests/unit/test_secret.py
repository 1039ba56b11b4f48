from __future__ import annotations

import stat
from pathlib import Path

from stepstone.api.auth import SECRET_FILE, load_or_create_secret


def test_the_secret_is_made_once_and_readable_by_the_owner_only(tmp_path: Path) -> None:
    first = load_or_create_secret(tmp_path)
    assert load_or_create_secret(tmp_path) == first
    assert stat.S_IMODE((tmp_path / SECRET_FILE).stat().st_mode) == 0o600
    assert len(first) >= 32


def test_an_empty_secret_left_by_a_crash_is_replaced(tmp_path: Path) -> None:
    (tmp_path / SECRET_FILE).write_text("")
    secret = load_or_create_secret(tmp_path)
    assert len(secret) >= 32
    assert (tmp_path / SECRET_FILE).read_text() == secret
    assert sorted(p.name for p in tmp_path.iterdir()) == [SECRET_FILE]

from __future__ import annotations

import itertools
import stat
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from stepstone.api.auth import SECRET_FILE, load_or_create_secret
from stepstone.store.private_files import secret_file


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


def test_threads_making_a_secret_file_at_once_all_get_the_one_that_landed_first(
    tmp_path: Path,
) -> None:
    made = itertools.count()
    start = threading.Barrier(16)

    def make() -> str:
        start.wait()
        return secret_file(
            tmp_path / "secret-key",
            generate=lambda: f"secret-number-{next(made)}",
            usable=bool,
        )

    with ThreadPoolExecutor(16) as pool:
        got = set(pool.map(lambda _: make(), range(16)))

    assert got == {(tmp_path / "secret-key").read_text()}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["secret-key"], "no temporary left"

"""Sealed values: encrypted and authenticated (Fernet: AES-128-CBC with an HMAC-SHA256) under
the installation's secret key, so the database can hold what it must not show (SPEC 9:
secret run args) and every process given the key, on any machine, can open it.

The key never enters the database. This module is the one place that decides where it
comes from: the ``STEPSTONE_SECRET_KEY`` setting (handed in by the entry point, which reads
the settings), or else the file ``secret-key`` in the home, made on first use (0600, written
whole; processes starting at once agree on one key). Processes on several machines need the
setting, or the same file in every home.
"""

from __future__ import annotations

from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

from stepstone.errors import InvalidInput
from stepstone.store.private_files import secret_file

KEY_SETTING = "STEPSTONE_SECRET_KEY"
KEY_FILE = "secret-key"
NEW_KEY_COMMAND = (
    "python3 -c 'import base64, os; print(base64.urlsafe_b64encode(os.urandom(32)).decode())'"
)
"""Prints a new key (32 random bytes in URL-safe base64: what Fernet takes), with nothing
but the standard library."""


class WrongKey(InvalidInput):
    """A sealed value that this process's key does not open (sealed under another key, or
    altered since)."""


def _fernet(key: str) -> Fernet | None:
    try:
        return Fernet(key)
    except ValueError:
        return None


class Sealer:
    """Seals and opens values under the key of ``STEPSTONE_SECRET_KEY`` (``configured_key``)
    or else of ``home``'s key file. A configured key that is not one is refused at once
    (InvalidInput naming the setting); the key file is read, or made, on first use."""

    def __init__(self, home: Path, configured_key: str | None = None) -> None:
        self._key_file = home / KEY_FILE
        self._fernet: Fernet | None = None
        if configured_key is not None:
            self._fernet = _fernet(configured_key)
            if self._fernet is None:
                raise InvalidInput(
                    f"{KEY_SETTING} is not a key: it must be 32 bytes in URL-safe base64"
                    f" (44 characters); make one with: {NEW_KEY_COMMAND}"
                )
        self.key_source = (
            KEY_SETTING if configured_key is not None else f"the key file {self._key_file}"
        )
        """Where the key comes from, as messages name it."""

    def _key(self) -> Fernet:
        if self._fernet is None:
            key = secret_file(
                self._key_file,
                generate=lambda: Fernet.generate_key().decode("ascii"),
                usable=lambda text: _fernet(text) is not None,
            )
            self._fernet = Fernet(key)
        return self._fernet

    def seal(self, plaintext: str) -> str:
        """``plaintext`` sealed, as ASCII text."""
        return self._key().encrypt(plaintext.encode()).decode("ascii")

    def unseal(self, sealed: str) -> str:
        """What :meth:`seal` sealed; WrongKey when this key does not open it, or when this
        process has no key (then none is made: a new key would open nothing)."""
        if self._fernet is None and not self._key_file.exists():
            raise WrongKey(
                f"sealed with a key this process does not have (no {KEY_SETTING}, no"
                f" {self._key_file}): every process needs the same {KEY_SETTING}"
            )
        try:
            return self._key().decrypt(sealed.encode("ascii")).decode()
        except (InvalidToken, UnicodeError) as exc:
            raise WrongKey(
                f"sealed with another key than this process's ({self.key_source}): every"
                f" process needs the same {KEY_SETTING}"
            ) from exc

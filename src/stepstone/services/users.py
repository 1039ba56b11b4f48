"""Use cases on users."""

from __future__ import annotations

import re
from typing import Any

from argon2 import PasswordHasher
from sqlalchemy.exc import IntegrityError

from stepstone.errors import InvalidInput
from stepstone.store import projects as store
from stepstone.store.database import Database

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")
MIN_PASSWORD_LENGTH = 8


def create_user(db: Database, email: str, password: str) -> dict[str, Any]:
    """A new user; the password is stored only as an argon2 hash."""
    email = email.strip().lower()
    if not _EMAIL.match(email):
        raise InvalidInput(f"{email!r} is not an email address")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(f"the password needs at least {MIN_PASSWORD_LENGTH} characters")
    with db.transaction() as conn:
        if store.get_user_by_email_txn(conn, email) is not None:
            raise InvalidInput(f"a user with email {email!r} exists already")
        try:
            user_id = store.insert_user_txn(conn, email, PasswordHasher().hash(password))
        except IntegrityError as exc:
            raise InvalidInput(f"a user with email {email!r} exists already") from exc
    return {"id": user_id, "email": email}

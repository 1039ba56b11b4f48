"""Use cases on users."""

from __future__ import annotations

import re

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerifyMismatchError
from sqlalchemy.exc import IntegrityError

from stepstone.errors import InvalidInput, Unauthorized
from stepstone.store import projects as store
from stepstone.store.database import Database
from stepstone.store.records import User, user_record

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")
MIN_PASSWORD_LENGTH = 8


def create_user(db: Database, email: str, password: str) -> User:
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


def authenticate(db: Database, email: str, password: str) -> User:
    """The user whose email and password these are; one vague error for any mismatch."""
    with db.transaction() as conn:
        user = store.get_user_by_email_txn(conn, email.strip().lower())
    if user is None:
        raise Unauthorized("wrong email or password")
    try:
        PasswordHasher().verify(user["password_hash"], password)
    except (VerifyMismatchError, InvalidHashError) as exc:
        raise Unauthorized("wrong email or password") from exc
    return user_record(user)


def get_user(db: Database, user_id: str) -> User:
    with db.read() as conn:
        user = store.get_user_txn(conn, user_id)
    if user is None:
        raise Unauthorized("the token's user no longer exists")
    return user_record(user)


def set_password(db: Database, email: str, password: str) -> User:
    """Create the user, or give an existing one a new password (the demo user)."""
    with db.transaction() as conn:
        user = store.get_user_by_email_txn(conn, email)
        if user is not None:
            store.set_password_hash_txn(conn, user["id"], PasswordHasher().hash(password))
            return user_record(user)
    return create_user(db, email, password)

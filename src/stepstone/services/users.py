"""Use cases on users: accounts, roles (SPEC 9), passwords and what a token may do."""

from __future__ import annotations

import functools
import re
import time
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Connection, RowMapping
from sqlalchemy.exc import IntegrityError

from stepstone.errors import InvalidInput, NotFound, Unauthorized
from stepstone.store import projects as store
from stepstone.store.database import Database
from stepstone.store.records import User, UserAccount, user_account_record, user_record

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")
MIN_PASSWORD_LENGTH = 8
WRONG_LOGIN = "wrong email or password"


@dataclass(frozen=True)
class Access:
    """A user who may act now, and the version their tokens must carry."""

    user: User
    token_version: int


def _access(row: RowMapping) -> Access:
    return Access(user_record(row), int(row["token_version"]))


def normalized_email(email: str) -> str:
    return email.strip().lower()


def create_user(db: Database, email: str, password: str, *, admin: bool = False) -> User:
    """A new user; the password is stored only as an argon2 hash. The first user of an
    installation is an admin whatever ``admin`` says: someone must manage projects."""
    email = normalized_email(email)
    if not _EMAIL.match(email):
        raise InvalidInput(f"{email!r} is not an email address")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(f"the password needs at least {MIN_PASSWORD_LENGTH} characters")
    password_hash = PasswordHasher().hash(password)
    with db.transaction() as conn:
        if store.get_user_by_email_txn(conn, email) is not None:
            raise InvalidInput(f"a user with email {email!r} exists already")
        admin = admin or not store.has_users_txn(conn)
        try:
            user_id = store.insert_user_txn(conn, email, password_hash, is_admin=admin)
        except IntegrityError as exc:
            raise InvalidInput(f"a user with email {email!r} exists already") from exc
    return {"id": user_id, "email": email, "is_admin": admin}


@functools.cache
def _stand_in_hash() -> str:
    """A hash to check passwords against when the email is unknown, so that answer takes
    as long as a wrong password does and timing does not tell which emails exist."""
    return PasswordHasher().hash("not anyone's password")


def authenticate(db: Database, email: str, password: str) -> Access:
    """The user whose email and password these are; one vague error for any mismatch, in
    the same time whether or not the email exists."""
    with db.read() as conn:
        user = store.get_user_by_email_txn(conn, normalized_email(email))
    try:
        PasswordHasher().verify(
            _stand_in_hash() if user is None else user["password_hash"], password
        )
    except (VerificationError, InvalidHashError) as exc:
        raise Unauthorized(WRONG_LOGIN) from exc
    if user is None:
        raise Unauthorized(WRONG_LOGIN)
    if user["disabled_at"] is not None:
        raise Unauthorized("this account is disabled; ask an admin")
    return _access(user)


def access_of(db: Database, user_id: str) -> Access | None:
    """What the user ``user_id`` may do now; None once deleted or disabled."""
    with db.read() as conn:
        user = store.get_user_txn(conn, user_id)
    if user is None or user["disabled_at"] is not None:
        return None
    return _access(user)


def get_user(db: Database, user_id: str) -> User:
    access = access_of(db, user_id)
    if access is None:
        raise Unauthorized("the token's user no longer exists or is disabled")
    return access.user


def set_password(db: Database, email: str, password: str) -> User:
    """Create the user, or give an existing one a new password (the demo user); tokens
    issued before stop working."""
    with db.transaction() as conn:
        user = store.get_user_by_email_txn(conn, email)
        if user is not None:
            store.set_password_hash_txn(conn, user["id"], PasswordHasher().hash(password))
            return user_record(user)
    return create_user(db, email, password)


def list_users(db: Database) -> list[UserAccount]:
    with db.read() as conn:
        return [user_account_record(user) for user in store.list_users_txn(conn)]


def _find_user_txn(conn: Connection, ref: str) -> RowMapping:
    user = store.get_user_by_email_txn(conn, normalized_email(ref)) or store.get_user_txn(conn, ref)
    if user is None:
        raise NotFound(f"no user {ref!r}")
    return user


def disable_user(db: Database, ref: str) -> UserAccount:
    """Stop the user ``ref`` (email or id) from logging in; their tokens stop working."""
    with db.transaction() as conn:
        user = _find_user_txn(conn, ref)
        if user["disabled_at"] is None:
            store.update_user_txn(
                conn, user["id"], disabled_at=time.time(), token_version=user["token_version"] + 1
            )
        return user_account_record(store.get_user_txn(conn, user["id"]) or user)


def enable_user(db: Database, ref: str) -> UserAccount:
    with db.transaction() as conn:
        user = _find_user_txn(conn, ref)
        store.update_user_txn(conn, user["id"], disabled_at=None)
        return user_account_record(store.get_user_txn(conn, user["id"]) or user)


def delete_user(db: Database, ref: str) -> User:
    """Delete the user ``ref`` (email or id); their tokens stop working. Their runs stay,
    belonging to no one (visible to admins)."""
    with db.transaction() as conn:
        user = _find_user_txn(conn, ref)
        store.delete_user_txn(conn, user["id"])
    return user_record(user)

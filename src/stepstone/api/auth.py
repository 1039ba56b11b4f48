"""Bearer tokens: HS256 JWTs signed with ``STEPSTONE_JWT_SECRET``, or else a secret kept in
``$STEPSTONE_HOME`` (mode 0600)."""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import jwt
from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from stepstone.errors import Forbidden, InvalidInput, Unauthorized
from stepstone.services.users import Access, access_of
from stepstone.store.database import Database
from stepstone.store.private_files import secret_file
from stepstone.store.records import User

SECRET_FILE = "jwt-secret"
SECRET_SETTING = "STEPSTONE_JWT_SECRET"
ALGORITHM = "HS256"
MIN_SECRET_LENGTH = 32


def signing_secret(home: Path, configured: str | None) -> str:
    """The secret tokens are signed with: ``configured`` (the ``STEPSTONE_JWT_SECRET``
    setting, which every API process behind one address must share), else the home's own.
    A configured secret shorter than 32 characters is refused (InvalidInput)."""
    if configured is None:
        return load_or_create_secret(home)
    if len(configured) < MIN_SECRET_LENGTH:
        raise InvalidInput(
            f"{SECRET_SETTING} is {len(configured)} characters long; it must be at least"
            f" {MIN_SECRET_LENGTH} (make one with: openssl rand -base64 48)"
        )
    return configured


def load_or_create_secret(home: Path) -> str:
    """The home's signing secret; generated on first start (written whole, so a crash
    never leaves half a secret), readable by the owner only."""
    return secret_file(
        home / SECRET_FILE,
        generate=lambda: secrets.token_urlsafe(48),
        usable=lambda secret: len(secret) >= MIN_SECRET_LENGTH,
    )


@dataclass(frozen=True)
class TokenClaims:
    user_id: str
    token_version: int
    expires_at: float


class TokenIssuer:
    def __init__(self, secret: str, expiry_seconds: float) -> None:
        self._secret = secret
        self._expiry_seconds = expiry_seconds

    def issue(self, access: Access) -> str:
        now = int(time.time())
        claims = {
            "sub": access.user["id"],
            "email": access.user["email"],
            "ver": access.token_version,
            "iat": now,
            "exp": now + int(self._expiry_seconds),
        }
        return jwt.encode(claims, self._secret, algorithm=ALGORITHM)

    def claims(self, token: str) -> TokenClaims:
        """What a valid token says; Unauthorized for anything else."""
        try:
            claims = jwt.decode(
                token, self._secret, algorithms=[ALGORITHM], options={"require": ["exp", "sub"]}
            )
            return TokenClaims(str(claims["sub"]), int(claims.get("ver", 0)), float(claims["exp"]))
        except jwt.ExpiredSignatureError as exc:
            raise Unauthorized("the token has expired; log in again") from exc
        except (jwt.InvalidTokenError, TypeError, ValueError) as exc:
            raise Unauthorized("the token is not valid") from exc


class TokenAuth:
    """Turns tokens into users. A token stops working when its user is deleted or disabled
    or their password changes (their token version moves on). What each user may do is
    kept in memory for ``cache_seconds``, so a request costs no database read; a change
    made by another process (``stepstone user delete``) applies within that time."""

    def __init__(self, db: Database, issuer: TokenIssuer, *, cache_seconds: float) -> None:
        self._db = db
        self.issuer = issuer
        self._cache_seconds = cache_seconds
        self._access: dict[str, tuple[float, Access | None]] = {}

    async def user(self, token: str) -> User:
        return await self.user_of(self.issuer.claims(token))

    async def user_of(self, claims: TokenClaims) -> User:
        """The user of a token already verified (a WebSocket checks its token again before
        every message without verifying its signature again)."""
        if time.time() >= claims.expires_at:
            raise Unauthorized("the token has expired; log in again")
        access = await self._access_of(claims.user_id)
        if access is None or access.token_version != claims.token_version:
            raise Unauthorized(
                "this token no longer works (its user was deleted or disabled, or their"
                " password changed); log in again"
            )
        return access.user

    def forget(self, user_id: str) -> None:
        """Read the user ``user_id`` afresh on their next request."""
        self._access.pop(user_id, None)

    async def _access_of(self, user_id: str) -> Access | None:
        now = time.monotonic()
        cached = self._access.get(user_id)
        if cached is not None and now - cached[0] < self._cache_seconds:
            return cached[1]
        access = await run_in_threadpool(access_of, self._db, user_id)
        self._access[user_id] = (now, access)
        return access


_bearer = HTTPBearer(auto_error=False, description="The token from POST /api/auth/login")


async def current_user(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> User:
    """The authenticated user of this request."""
    if credentials is None:
        raise Unauthorized("send Authorization: Bearer <token> (from POST /api/auth/login)")
    auth: TokenAuth = request.app.state.auth
    return await auth.user(credentials.credentials)


async def admin_user(user: Annotated[User, Depends(current_user)]) -> User:
    if not user["is_admin"]:
        raise Forbidden("only admins can register, rename or delete projects")
    return user


CurrentUser = Annotated[User, Depends(current_user)]
AdminUser = Annotated[User, Depends(admin_user)]


def runs_visible_to(user: User) -> str | None:
    """The owner whose runs ``user`` sees: their own, or everyone's (None) for an admin."""
    return None if user["is_admin"] else user["id"]

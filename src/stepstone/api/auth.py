"""Bearer tokens: HS256 JWTs signed with a secret kept in ``$STEPSTONE_HOME`` (mode 0600)."""

from __future__ import annotations

import os
import secrets
import time
from pathlib import Path
from typing import Annotated, Any

import jwt
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from stepstone.errors import Unauthorized
from stepstone.store.records import User

SECRET_FILE = "jwt-secret"
ALGORITHM = "HS256"


MIN_SECRET_LENGTH = 32


def load_or_create_secret(home: Path) -> str:
    """The signing secret; generated on first start (written whole, then renamed into
    place, so a crash never leaves half a secret), readable by the owner only."""
    path = home / SECRET_FILE
    home.mkdir(parents=True, exist_ok=True)
    if path.is_file():
        secret = path.read_text().strip()
        if len(secret) >= MIN_SECRET_LENGTH:
            return secret
    secret = secrets.token_urlsafe(48)
    partial = path.with_name(f".{SECRET_FILE}.{os.getpid()}")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as secret_file:
        secret_file.write(secret)
        secret_file.flush()
        os.fsync(secret_file.fileno())
    try:
        os.link(partial, path)  # fails if another process won the race: use its secret
    except FileExistsError:
        secret = path.read_text().strip()
        if len(secret) < MIN_SECRET_LENGTH:  # an unusable leftover: replace it
            os.replace(partial, path)
            return load_or_create_secret(home)
    finally:
        partial.unlink(missing_ok=True)
    return secret


class TokenIssuer:
    def __init__(self, secret: str, expiry_seconds: float) -> None:
        self._secret = secret
        self._expiry_seconds = expiry_seconds

    def issue(self, user: User) -> str:
        now = int(time.time())
        claims = {"sub": user["id"], "email": user["email"], "iat": now}
        claims["exp"] = now + int(self._expiry_seconds)
        return jwt.encode(claims, self._secret, algorithm=ALGORITHM)

    def user(self, token: str) -> User:
        """``{id, email}`` of the user a valid token names; Unauthorized for anything else."""
        claims = self._claims(token)
        return {"id": str(claims["sub"]), "email": str(claims.get("email", ""))}

    def user_id(self, token: str) -> str:
        return str(self.user(token)["id"])

    def _claims(self, token: str) -> dict[str, Any]:
        try:
            claims = jwt.decode(
                token, self._secret, algorithms=[ALGORITHM], options={"require": ["exp", "sub"]}
            )
        except jwt.ExpiredSignatureError as exc:
            raise Unauthorized("the token has expired; log in again") from exc
        except jwt.InvalidTokenError as exc:
            raise Unauthorized("the token is not valid") from exc
        return dict(claims)


_bearer = HTTPBearer(auto_error=False, description="The token from POST /api/auth/login")


async def current_user(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> User:
    """The authenticated user of this request, as the signed token names them (no database
    read: this runs on every request; tokens expire)."""
    if credentials is None:
        raise Unauthorized("send Authorization: Bearer <token> (from POST /api/auth/login)")
    issuer: TokenIssuer = request.app.state.tokens
    return issuer.user(credentials.credentials)


CurrentUser = Annotated[User, Depends(current_user)]

"""Login, the current user, health."""

from __future__ import annotations

import functools

from fastapi import APIRouter, Request
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from stepstone.api.auth import CurrentUser, TokenAuth
from stepstone.api.login_throttle import LoginThrottle
from stepstone.api.schemas import Health, LoginRequest, LoginResponse, error_responses
from stepstone.services.users import authenticate, get_user, normalized_email
from stepstone.store.records import User

router = APIRouter()


@router.post("/auth/login", response_model=LoginResponse, responses=error_responses(401))
async def login(body: LoginRequest, request: Request) -> LoginResponse:
    """Exchange email and password for a bearer token. Repeated failures slow down."""
    throttle: LoginThrottle = request.app.state.login_throttle
    address = request.client.host if request.client else ""
    async with throttle.attempt(normalized_email(body.email), address) as attempt:
        access = await attempt.check(
            functools.partial(authenticate, request.app.state.db, body.email, body.password)
        )
    auth: TokenAuth = request.app.state.auth
    auth.forget(access.user["id"])
    return LoginResponse(token=auth.issuer.issue(access), user=access.user)


@router.get("/auth/me", response_model=User)
def me(user: CurrentUser, request: Request) -> User:
    """The user the token belongs to."""
    return get_user(request.app.state.db, user["id"])


@router.get("/health", response_model=Health)
def health(request: Request) -> Health:
    """Whether the server and its database answer."""
    try:
        with request.app.state.db.read() as conn:
            conn.execute(text("SELECT 1"))
    except SQLAlchemyError:
        return Health(status="degraded", database="unavailable")
    return Health(status="ok", database="ok")

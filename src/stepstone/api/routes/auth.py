"""Login, the current user, health."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from stepstone.api.auth import CurrentUser, TokenIssuer
from stepstone.api.schemas import Health, LoginRequest, LoginResponse, User, error_responses
from stepstone.services.users import authenticate, get_user

router = APIRouter()


@router.post("/auth/login", response_model=LoginResponse, responses=error_responses(401))
def login(body: LoginRequest, request: Request) -> dict[str, Any]:
    """Exchange email and password for a bearer token."""
    user = authenticate(request.app.state.db, body.email, body.password)
    tokens: TokenIssuer = request.app.state.tokens
    return {"token": tokens.issue(user), "user": user}


@router.get("/auth/me", response_model=User)
def me(user: CurrentUser, request: Request) -> dict[str, Any]:
    """The user the token belongs to."""
    return get_user(request.app.state.db, user["id"])


@router.get("/health", response_model=Health)
def health(request: Request) -> dict[str, str]:
    """Whether the server and its database answer."""
    try:
        with request.app.state.db.read() as conn:
            conn.execute(text("SELECT 1"))
    except SQLAlchemyError:
        return {"status": "degraded", "database": "unavailable"}
    return {"status": "ok", "database": "ok"}

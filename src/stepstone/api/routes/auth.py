"""Login, the current user, health."""

from __future__ import annotations

from fastapi import APIRouter, Request
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from stepstone.api.auth import CurrentUser, TokenIssuer
from stepstone.api.schemas import Health, LoginRequest, LoginResponse, error_responses
from stepstone.services.users import authenticate, get_user
from stepstone.store.records import User

router = APIRouter()


@router.post("/auth/login", response_model=LoginResponse, responses=error_responses(401))
def login(body: LoginRequest, request: Request) -> LoginResponse:
    """Exchange email and password for a bearer token."""
    user = authenticate(request.app.state.db, body.email, body.password)
    tokens: TokenIssuer = request.app.state.tokens
    return LoginResponse(token=tokens.issue(user), user=user)


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

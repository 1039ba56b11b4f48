"""Tokens checked against their user's current rights: a deleted or disabled user, a new
password or the token's own expiry stop a token, also one verified once and held (a
WebSocket's)."""

from __future__ import annotations

import dataclasses
import time

import pytest

from stepstone.api.auth import TokenAuth, TokenIssuer
from stepstone.errors import Unauthorized
from stepstone.services.users import (
    authenticate,
    create_user,
    delete_user,
    disable_user,
    set_password,
)
from stepstone.store.database import Database

PASSWORD = "correct-horse-battery"


def signed_in(db: Database) -> tuple[TokenAuth, str]:
    create_user(db, "held@example.com", PASSWORD)
    auth = TokenAuth(db, TokenIssuer("s" * 48, 3600), cache_seconds=0)
    return auth, auth.issuer.issue(authenticate(db, "held@example.com", PASSWORD))


@pytest.mark.parametrize(
    "change",
    [
        lambda db: delete_user(db, "held@example.com"),
        lambda db: disable_user(db, "held@example.com"),
        lambda db: set_password(db, "held@example.com", "another-password"),
    ],
    ids=["deleted", "disabled", "new password"],
)
async def test_a_held_token_stops_when_its_user_changes(db: Database, change) -> None:
    auth, token = signed_in(db)
    claims = auth.issuer.claims(token)
    assert (await auth.user_of(claims))["email"] == "held@example.com"
    change(db)
    with pytest.raises(Unauthorized, match="no longer works"):
        await auth.user_of(claims)
    with pytest.raises(Unauthorized, match="no longer works"):
        await auth.user(token)


async def test_a_held_token_stops_when_it_expires(db: Database) -> None:
    auth, token = signed_in(db)
    claims = auth.issuer.claims(token)
    expired = dataclasses.replace(claims, expires_at=time.time() - 1)
    with pytest.raises(Unauthorized, match="expired"):
        await auth.user_of(expired)

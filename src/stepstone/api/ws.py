"""``/ws?token=…``: live messages for the channels a client subscribes to (SPEC 6)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
from typing import Any

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from starlette.websockets import WebSocketState

from stepstone.api.auth import TokenAuth, TokenClaims, runs_visible_to
from stepstone.errors import StepstoneError, Unauthorized
from stepstone.live.bus import EventBus, Subscription
from stepstone.live.feed import ChangeFeed
from stepstone.services.runs import get_run

router = APIRouter()
CHANNEL = re.compile(r"^(project|run):[A-Za-z0-9-]{1,64}$")
POLICY_VIOLATION = 1008
TRY_AGAIN_LATER = 1013


@router.websocket("/ws")
async def live_updates(websocket: WebSocket, token: str = "") -> None:
    """Subscribe with ``{"type": "subscribe", "channels": ["project:ID", "run:ID"]}``."""
    state = websocket.app.state
    auth: TokenAuth = state.auth
    try:
        claims = auth.issuer.claims(token)
        user = await auth.user_of(claims)
    except Unauthorized:
        await websocket.close(code=POLICY_VIOLATION, reason="a valid token is required")
        return
    await websocket.accept()
    bus: EventBus = state.bus
    subscription = bus.subscribe(runs_visible_to(user))
    sender = asyncio.create_task(_send_messages(websocket, subscription, auth, claims))
    try:
        feed: ChangeFeed = state.feed
        await feed.following()  # before any "subscribed": the client fetches its snapshot then
        while True:
            text = await websocket.receive_text()
            try:
                user = await auth.user_of(claims)
            except Unauthorized as exc:
                await websocket.close(code=POLICY_VIOLATION, reason=exc.message)
                return
            reply = await _handle(text, subscription, state.db, runs_visible_to(user))
            await websocket.send_json(reply)
    except WebSocketDisconnect:
        pass
    finally:
        bus.unsubscribe(subscription)
        sender.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await sender


async def _send_messages(
    websocket: WebSocket, subscription: Subscription, auth: TokenAuth, claims: TokenClaims
) -> None:
    while websocket.application_state == WebSocketState.CONNECTED:
        message = await subscription.queue.get()
        try:
            # A deleted or disabled user, or an expired token, hears nothing more.
            await auth.user_of(claims)
        except Unauthorized as exc:
            await websocket.close(code=POLICY_VIOLATION, reason=exc.message)
            return
        if subscription.overflowed:
            # Messages were dropped: the client must reconnect and refetch.
            await websocket.close(code=TRY_AGAIN_LATER, reason="fell behind; reconnect")
            return
        await websocket.send_json(message)


async def _handle(
    text: str, subscription: Subscription, db: Any, user_id: str | None
) -> dict[str, Any]:
    try:
        request = json.loads(text)
        kind, channels = request["type"], request["channels"]
        if kind not in ("subscribe", "unsubscribe") or not isinstance(channels, list):
            raise ValueError
    except (ValueError, KeyError, TypeError, RecursionError):
        return _error('send {"type": "subscribe" or "unsubscribe", "channels": [...]}')
    bad = [c for c in channels if not isinstance(c, str) or not CHANNEL.match(c)]
    if bad:
        return _error(f"unknown channels {bad!r}: use project:ID or run:ID")
    if kind == "unsubscribe":
        subscription.channels.difference_update(channels)
        return {"type": "unsubscribed", "channels": sorted(channels)}
    for channel in channels:
        if channel.startswith("run:"):
            try:
                await asyncio.to_thread(get_run, db, channel[4:], user_id=user_id)
            except StepstoneError as exc:
                return _error(exc.message)
    subscription.channels.update(channels)
    return {"type": "subscribed", "channels": sorted(subscription.channels)}


def _error(message: str) -> dict[str, Any]:
    return {"type": "error", "data": {"message": message}}

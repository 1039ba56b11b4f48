"""SQLite's feed cursor (``store.changes.Cursors``): past what a look read, and a little
before it for the next look."""

from __future__ import annotations

from stepstone.store.changes import OVERLAP_SECONDS, Changes, Cursors

T0 = 1_750_000_000.0


def test_the_cursors_move_past_what_was_read_and_the_next_look_overlaps_the_past() -> None:
    start = Cursors(runs_since=T0 - 10, steps_since=T0 - 10, event_id=5, log_id=2)
    read = Changes(
        runs=[{"updated_at": T0 + 2}, {"updated_at": T0}],  # type: ignore[list-item]
        steps=[{"updated_at": T0}, {"updated_at": T0 + 1}],  # type: ignore[list-item]
        events=[{"id": 7}, {"id": 9}],  # type: ignore[list-item]
        logs=[{"id": 3}, {"id": 4}],  # type: ignore[list-item]
    )

    moved = start.past(read)

    assert moved == Cursors(runs_since=T0 + 2, steps_since=T0 + 1, event_id=9, log_id=4)
    assert moved.past(Changes()) == moved, "a look that read nothing moves nothing"
    assert moved.read_from() == Cursors(
        runs_since=T0 + 2 - OVERLAP_SECONDS,
        steps_since=T0 + 1 - OVERLAP_SECONDS,
        event_id=9,
        log_id=4,
    )


def test_a_step_never_stamped_leaves_the_steps_cursor_where_it_was() -> None:
    start = Cursors(steps_since=T0)
    assert start.past(Changes(steps=[{"updated_at": None}])).steps_since == T0  # type: ignore[list-item]

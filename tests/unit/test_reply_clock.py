"""An answer stops the clocks of the messages it answers: all that wait, or (a reply settled after its
sending was interrupted) only those waiting when it was sent, the later ones keeping the thread waiting."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from oms.care.clock import answered_thread
from oms.domain.types import iso_z

SENT = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)


def clock(received: datetime, digest: str) -> str:
    return f"{iso_z(received)}#t1#{digest}"


FIRST = clock(SENT - timedelta(hours=3), "a")
SECOND = clock(SENT - timedelta(hours=1), "b")
LATER = clock(SENT + timedelta(hours=2), "c")  # the buyer wrote again after the reply


def waiting(*clocks: str) -> dict:
    return {
        "threadId": "t1",
        "orderId": "112-1234567-7654321",
        "status": "awaiting",
        "waitingSince": clocks[0].split("#")[0],
        "dueAt": iso_z(SENT + timedelta(hours=21)),
        "lastMessageAt": clocks[-1].split("#")[0],
        "pendingClocks": list(clocks),
        "flags": ["atRisk"],
        "messagesOut": 0,
        "version": 4,
    }


def test_an_answer_stops_every_waiting_clock_at_its_moment():
    thread, writes = answered_thread(waiting(FIRST, SECOND), SENT)

    assert (thread["status"], thread.get("dueAt"), thread["answeredAt"]) == ("answered", None, iso_z(SENT))
    assert thread["messagesOut"] == 1 and thread["flags"] == []
    assert [w.key["sk"] for w in writes] == [FIRST, SECOND]
    assert {w.values[":at"] for w in writes} == {iso_z(SENT)}


def test_a_settled_reply_leaves_a_later_message_waiting_from_its_own_arrival():
    thread, writes = answered_thread(
        waiting(FIRST, SECOND, LATER), SENT, answers=[FIRST, SECOND], sendingReplies=[]
    )

    assert [w.key["sk"] for w in writes] == [FIRST, SECOND]
    assert thread["status"] == "awaiting" and thread["pendingClocks"] == [LATER]
    assert thread["waitingSince"] == iso_z(SENT + timedelta(hours=2))
    assert thread["dueAt"] == iso_z(SENT + timedelta(hours=26))
    assert thread["messagesOut"] == 1 and thread["sendingReplies"] == []


def test_clocks_stopped_meanwhile_are_not_stopped_again():
    """ "No response needed" while the reply was in doubt closed them: settling must not touch them."""
    thread, writes = answered_thread(waiting(LATER), SENT, answers=[FIRST, SECOND])

    assert writes == [] and thread["pendingClocks"] == [LATER]

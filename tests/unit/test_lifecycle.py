"""The conversation lifecycle of the design, checked against the pure model.

The expected table below is written from the design's "Conversation lifecycle" section,
independently of the model's own table, so a change to either shows up here.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chatdesk.conversations.model import (
    EVENT_NAMES,
    OPEN_STATES,
    Action,
    State,
    allowed_from,
    transition,
)
from chatdesk.errors import IllegalStateError

B, Q, OF, A, P, C = (
    State.BOT,
    State.QUEUED,
    State.OFFERED,
    State.ASSIGNED,
    State.PENDING,
    State.CLOSED,
)

EXPECTED: dict[tuple[Action, State], State] = {
    (Action.HANDOFF, B): Q,  # the visitor (or the bot) asks for a person
    (Action.GO_PENDING, B): P,  # nobody online: the visitor leaves a message
    (Action.GO_PENDING, Q): P,
    (Action.OFFER, Q): OF,  # offered to one agent
    (Action.DECLINE, OF): Q,  # declined -> next agent
    (Action.EXPIRE, OF): Q,  # expired -> next agent
    (Action.ACCEPT, OF): A,
    (Action.TAKE, P): A,  # an agent takes a left message
    (Action.TAKE, Q): A,
    (Action.REQUEUE, A): Q,  # agent gone past the grace period: back to the front
    (Action.REQUEUE, OF): Q,
    (Action.TRANSFER, A): A,
    (Action.TAKEOVER, A): A,  # a supervisor takes over
    (Action.TAKEOVER, Q): A,
    (Action.HANDBACK, A): B,  # the agent hands the chat back to the bot
    (Action.DEQUEUE, Q): C,  # a visitor gone while waiting: no ghosts offered
    (Action.DEQUEUE, OF): C,
    **{(Action.CLOSE, state): C for state in (B, Q, OF, A, P)},
}
PAIRS = [(action, state) for action in Action for state in State]


@pytest.mark.parametrize(("action", "state"), [pair for pair in PAIRS if pair in EXPECTED], ids=str)
def test_allowed_transition_reaches_the_designed_state(action: Action, state: State) -> None:
    assert transition(state, action) == EXPECTED[(action, state)]
    assert state in allowed_from(action)


@pytest.mark.parametrize(
    ("action", "state"), [pair for pair in PAIRS if pair not in EXPECTED], ids=str
)
def test_illegal_transition_is_refused_with_illegal_state(action: Action, state: State) -> None:
    with pytest.raises(IllegalStateError) as refused:
        transition(state, action)
    assert refused.value.code == "illegal_state"
    assert action.value in refused.value.message and state.value in refused.value.message
    assert state not in allowed_from(action)


def test_every_action_has_an_event_name() -> None:
    assert set(EVENT_NAMES) == set(Action)
    assert all(name and name == name.lower() for name in EVENT_NAMES.values())


def test_closed_is_terminal_and_every_open_state_can_close() -> None:
    assert OPEN_STATES == frozenset(State) - {C}
    for action in Action:
        assert C not in allowed_from(action)
    for state in OPEN_STATES:
        assert transition(state, Action.CLOSE) == C


def test_states_and_actions_equal_their_protocol_strings() -> None:
    assert [s.value for s in State] == ["bot", "queued", "offered", "assigned", "pending", "closed"]
    assert State("assigned") is A


@given(st.lists(st.sampled_from(list(Action)), max_size=40))
def test_any_action_sequence_follows_the_design_or_changes_nothing(
    actions: list[Action],
) -> None:
    """Replaying arbitrary actions: each is applied exactly as the design table says, and
    a refused one leaves the state where it was (the next action starts from there)."""
    state = B
    events: list[str] = []
    for action in actions:
        expected = EXPECTED.get((action, state))
        if expected is None:
            with pytest.raises(IllegalStateError):
                transition(state, action)
            continue
        state = transition(state, action)
        events.append(EVENT_NAMES[action])
        assert state == expected
    # The stored events tell the whole story: closed exactly when the last event closes.
    assert (state == C) == bool(events and events[-1] in ("closed", "dequeued"))


@given(st.lists(st.sampled_from(list(Action)), min_size=1, max_size=40))
def test_assigned_is_only_reached_through_an_agent(actions: list[Action]) -> None:
    """Only the owner speaks: a human owns a chat only after accept, take or takeover."""
    state = B
    for action in actions:
        try:
            after = transition(state, action)
        except IllegalStateError:
            continue
        if after == A and state != A:
            assert action in (Action.ACCEPT, Action.TAKE, Action.TAKEOVER)
        state = after

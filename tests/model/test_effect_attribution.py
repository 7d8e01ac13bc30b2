"""The side-effect attribution rule, case by case, on a manual clock."""

from __future__ import annotations

from twsim.model.attribution import Cause
from twsim.model.clock import ManualClock
from twsim.model.effect_attribution import EffectAttribution

SID_A = "SM" + "a" * 32
SID_B = "SM" + "b" * 32
ANN, BOB = "+15551230001", "+15551230002"


def rule(window_s: float = 2.0) -> tuple[ManualClock, EffectAttribution]:
    clock = ManualClock()
    effects = EffectAttribution(clock, window_s)
    effects.watch()  # an observer is running
    return clock, effects


def test_an_effect_while_one_webhook_is_in_flight_is_that_texts() -> None:
    _, effects = rule()
    effects.opened(SID_A, "WA1", ANN)
    assert effects.cause() == Cause(SID_A, "WA1", "in-flight")


def test_with_two_webhooks_in_flight_an_unmentioning_effect_is_unattributed() -> None:
    _, effects = rule()
    effects.opened(SID_A, "WA1", ANN)
    effects.opened(SID_B, "WA2", BOB)
    assert effects.cause("nothing to go on") == Cause()


def test_a_mentioned_message_sid_wins_over_the_webhooks_in_flight() -> None:
    _, effects = rule()
    effects.opened(SID_A, "WA1", ANN)
    effects.opened(SID_B, "WA2", BOB)
    assert effects.cause(f"sms {SID_B} handled") == Cause(SID_B, "WA2", "mention")


def test_a_mentioned_sender_means_their_latest_text() -> None:
    _, effects = rule()
    effects.opened(SID_A, "WA1", ANN)
    effects.closed(SID_A)
    effects.opened(SID_B, "WA2", ANN)  # Ann texts again
    effects.opened("SM" + "c" * 32, "WA3", BOB)
    assert effects.cause(f"invalid code from {ANN}") == Cause(SID_B, "WA2", "mention")


def test_a_text_naming_two_senders_is_not_spread_over_them() -> None:
    _, effects = rule()
    effects.opened(SID_A, "WA1", ANN)
    effects.opened(SID_B, "WA2", BOB)
    assert effects.cause(f"digest: {ANN} and {BOB} sent bad codes") == Cause()


def test_a_sid_mention_outranks_a_sender_mention() -> None:
    _, effects = rule()
    effects.opened(SID_A, "WA1", ANN)
    effects.opened(SID_B, "WA2", BOB)
    assert effects.cause(f"{SID_A} from {BOB}").inbound == SID_A


def test_unknown_mentions_fall_back_to_timing() -> None:
    _, effects = rule()
    effects.opened(SID_A, "WA1", ANN)
    assert effects.cause("SM" + "f" * 32 + " from +19995550000") == Cause(SID_A, "WA1", "in-flight")


async def test_after_a_webhook_ends_its_window_holds_then_closes() -> None:
    clock, effects = rule(window_s=2.0)
    effects.opened(SID_A, "WA1", ANN)
    await clock.advance(0.1)
    effects.closed(SID_A)
    await clock.advance(1.5)
    assert effects.cause() == Cause(SID_A, "WA1", "window")
    await clock.advance(1.0)
    assert effects.cause() == Cause()


async def test_two_finished_webhooks_in_the_window_leave_the_effect_unattributed() -> None:
    clock, effects = rule()
    for sid, phone in ((SID_A, ANN), (SID_B, BOB)):
        effects.opened(sid, None, phone)
        effects.closed(sid)
    await clock.advance(0.5)
    assert effects.cause() == Cause()


async def test_an_effect_seen_late_belongs_to_the_webhook_in_flight_during_its_interval() -> None:
    clock, effects = rule(window_s=0.0)
    since = effects.now()
    effects.opened(SID_A, "WA1", ANN)
    await clock.advance(0.1)
    effects.closed(SID_A)
    await clock.advance(0.2)
    # an observer looking now at what happened since its last look
    assert effects.cause(since=since) == Cause(SID_A, "WA1", "in-flight")
    # ... but an interval after it ended, with no window, is nobody's
    assert effects.cause(since=effects.now()) == Cause()


async def test_an_interval_that_saw_two_webhooks_is_unattributed() -> None:
    clock, effects = rule()
    since = effects.now()
    for sid, phone in ((SID_A, ANN), (SID_B, BOB)):
        effects.opened(sid, None, phone)
        await clock.advance(0.1)
        effects.closed(sid)
    assert effects.cause(since=since) == Cause()


def test_observers_are_asked_to_look_before_each_webhook_starts_and_ends() -> None:
    _, effects = rule()
    seen: list[int] = []
    undo = effects.on_change(lambda: seen.append(len(seen)))
    effects.opened(SID_A, "WA1", ANN)
    effects.closed(SID_A)
    assert seen == [0, 1]
    undo()
    effects.opened(SID_B, "WA2", BOB)
    assert seen == [0, 1]


def test_a_redirected_text_stays_in_flight_until_its_last_request_ends() -> None:
    _, effects = rule(window_s=0.0)
    effects.opened(SID_A, "WA1", ANN)
    effects.opened(SID_A, "WA2", ANN)  # a <Redirect> while the first is still open
    effects.closed(SID_A)
    assert effects.cause() == Cause(SID_A, "WA2", "in-flight")


def test_under_a_crowd_observers_are_not_asked_to_look_at_every_webhook() -> None:
    _, effects = rule()
    looks: list[int] = []
    effects.on_change(lambda: looks.append(1))
    sids = ["SM" + f"{i:032x}" for i in range(5)]
    for sid in sids:
        effects.opened(sid, None, "")
    # the first two starts could still be attributed; after that two are always in flight
    assert len(looks) == 2
    for sid in sids[:3]:
        effects.closed(sid)
    assert len(looks) == 2
    effects.closed(sids[3])  # one left in flight: the next interval can be attributed
    effects.closed(sids[4])
    assert len(looks) == 4


def test_a_sender_texting_again_makes_observers_look_even_in_a_crowd() -> None:
    _, effects = rule()
    looks: list[int] = []
    effects.on_change(lambda: looks.append(1))
    for i in range(3):
        effects.opened("SM" + f"{i:032x}", None, f"+1555123000{i}")
    assert len(looks) == 2
    effects.opened("SM" + "f" * 32, None, "+15551230000")  # the first sender again
    assert len(looks) == 3


def test_without_an_observer_nothing_is_remembered() -> None:
    clock = ManualClock()
    effects = EffectAttribution(clock, 2.0)
    effects.opened("SM" + "a" * 32, "WA1", "+15551230001")
    assert effects.cause("SM" + "a" * 32).inbound is None  # nothing kept to attribute to
    unwatch = effects.watch()
    effects.opened("SM" + "b" * 32, "WA2", "+15551230002")
    assert effects.cause("SM" + "b" * 32).inbound == "SM" + "b" * 32
    unwatch()
    assert effects.cause("SM" + "b" * 32).inbound is None  # forgotten once the last stops

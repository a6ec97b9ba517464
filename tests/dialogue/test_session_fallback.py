"""Session start (channel mode), repeat, and the two-stage fallback actions."""

from __future__ import annotations

from rasa_sdk.executor import CollectingDispatcher

from actions.fallback import ActionDefaultAskAffirmation, ActionDefaultFallback, top_intents
from actions.session import ActionRepeat, ActionSessionStart
from tests.dialogue.helpers import bot, load_domain, tracker, user


async def test_session_start_takes_channel_mode_from_metadata() -> None:
    dispatcher = CollectingDispatcher()
    t = tracker(slots={"session_started_metadata": {"channel_mode": "voice"}})
    events = await ActionSessionStart().run(dispatcher, t, load_domain())
    assert events[0]["event"] == "session_started"
    assert {"event": "slot", "timestamp": None, "name": "channel_mode", "value": "voice"} in events
    assert events[-1]["event"] == "action" and events[-1]["name"] == "action_listen"


async def test_session_start_keeps_the_mode_and_ignores_junk() -> None:
    domain = load_domain()
    kept = await ActionSessionStart().run(
        CollectingDispatcher(), tracker(slots={"channel_mode": "voice"}), domain
    )
    assert [e["value"] for e in kept if e["event"] == "slot"] == ["voice"]
    junk = await ActionSessionStart().run(
        CollectingDispatcher(),
        tracker(slots={"session_started_metadata": {"channel_mode": "telepathy"}}),
        domain,
    )
    assert [e["value"] for e in junk if e["event"] == "slot"] == ["text"]


async def test_repeat_sends_the_previous_turn_again_and_reverts() -> None:
    buttons = [{"title": "是", "payload": "/affirm"}]
    events = [
        user("你好", "greet"),
        bot("第一轮"),
        user("我能领失业金吗", "check_eligibility"),
        bot("问题一", buttons=buttons),
        bot("", custom={"type": "stations", "items": []}),
        user("再说一遍", "repeat"),
    ]
    dispatcher = CollectingDispatcher()
    result = await ActionRepeat().run(dispatcher, tracker(events=events), load_domain())
    assert [m["text"] for m in dispatcher.messages] == ["问题一", None]
    assert dispatcher.messages[0]["buttons"] == buttons
    assert dispatcher.messages[1]["custom"] == {"type": "stations", "items": []}
    assert result == [{"event": "rewind", "timestamp": None}]


async def test_repeat_with_nothing_said_yet() -> None:
    dispatcher = CollectingDispatcher()
    await ActionRepeat().run(
        dispatcher, tracker(events=[user("再说一遍", "repeat")]), load_domain()
    )
    assert dispatcher.messages[0]["response"] == "utter_nothing_to_repeat"


RANKING = {
    "text": "那个补贴的站",
    "intent": {"name": "nlu_fallback", "confidence": 0.6},
    "entities": [{"entity": "city", "value": "杭州"}],
    "intent_ranking": [
        {"name": "nlu_fallback", "confidence": 0.6},
        {"name": "check_eligibility", "confidence": 0.41},
        {"name": "affirm", "confidence": 0.3},
        {"name": "find_service_station", "confidence": 0.2},
        {"name": "ask_policy", "confidence": 0.1},
    ],
}


def test_top_intents_skip_fallback_and_answers() -> None:
    assert top_intents(RANKING) == ["check_eligibility", "find_service_station"]
    assert top_intents({"intent_ranking": []}) == ["search_job", "ask_policy"]
    only_fallback = {"intent_ranking": [{"name": "nlu_fallback"}, {"name": "ask_policy"}]}
    assert top_intents(only_fallback) == ["ask_policy", "search_job"]


async def test_ask_affirmation_offers_top_two_and_none_of_these() -> None:
    dispatcher = CollectingDispatcher()
    t = tracker(latest_message=RANKING, events=[user("那个补贴的站", "nlu_fallback")])
    assert await ActionDefaultAskAffirmation().run(dispatcher, t, load_domain()) == []
    message = dispatcher.messages[0]
    assert message["response"] == "utter_ask_affirmation"
    assert [b["title"] for b in message["buttons"]] == ["查能不能领补贴", "找附近服务站", "都不是"]
    assert message["buttons"][0]["payload"] == '/check_eligibility{"city":"杭州"}'
    assert message["buttons"][2]["payload"] == "/out_of_scope"


async def test_ask_affirmation_for_a_bare_payload_offers_common_requests() -> None:
    dispatcher = CollectingDispatcher()
    t = tracker(latest_message={"intent_ranking": [{"name": "nlu_fallback", "confidence": 1.0}]})
    await ActionDefaultAskAffirmation().run(dispatcher, t, load_domain())
    titles = [b["title"] for b in dispatcher.messages[0]["buttons"]]
    assert titles == ["找工作", "问就业政策", "都不是"]


async def test_default_fallback_offers_a_person() -> None:
    dispatcher = CollectingDispatcher()
    events = await ActionDefaultFallback().run(dispatcher, tracker(), load_domain())
    assert dispatcher.messages[0]["response"] == "utter_offer_person"
    assert events == [{"event": "rewind", "timestamp": None}]
    payloads = [
        b["payload"] for b in load_domain()["responses"]["utter_offer_person"][1]["buttons"]
    ]
    assert "/human_handoff" in payloads

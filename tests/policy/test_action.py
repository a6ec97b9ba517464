"""ActionAnswerPolicy with a real Tracker and CollectingDispatcher."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.policy import ActionAnswerPolicy
from knowledge.answers import ASK_EMPLOYER_QUESTION, ASK_WORKER_QUESTION, UNAVAILABLE
from knowledge.documents import load_folder
from knowledge.policy_index import PolicyIndex, PolicyIndexStale

from .conftest import SAMPLE_ENTRIES, FakeEmbedder


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> PolicyIndex:
    from .conftest import LAW_MD

    folder = tmp_path_factory.mktemp("laws")
    (folder / "测试失业保险条例(2020-05-01).md").write_text(LAW_MD, encoding="utf-8")
    idx = PolicyIndex.build(SAMPLE_ENTRIES, load_folder(folder), FakeEmbedder())
    idx.manifest["confidence_band"] = [0.3, 0.9]
    return idx


def tracker(text: str, intent: str = "ask_policy", **slots: Any) -> Tracker:
    return Tracker(
        sender_id="u1",
        slots={"channel_mode": "text", "policy_audience": None, "city": None, **slots},
        latest_message={
            "text": text,
            "intent": {"name": intent, "confidence": 0.9},
            "entities": [],
        },
        events=[],
        paused=False,
        followup_action=None,
        active_loop={},
        latest_action_name="action_listen",
    )


async def run(action: ActionAnswerPolicy, t: Tracker) -> tuple[list[dict[str, Any]], list[Any]]:
    dispatcher = CollectingDispatcher()
    events = await action.run(dispatcher, t, {})
    return dispatcher.messages, events


@pytest.fixture(autouse=True)
def low_threshold(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JOBBOT_POLICY_SCORE_THRESHOLD", "0.3")
    from knowledge.settings import get_settings

    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_name() -> None:
    assert ActionAnswerPolicy().name() == "action_answer_policy"


async def test_answers_with_text_buttons_and_payload(index: PolicyIndex) -> None:
    messages, events = await run(ActionAnswerPolicy(lambda: index), tracker("失业金能领几个月"))
    text_msg, custom_msg = messages
    assert "依据：《失业保险条例》第十七条（全国，1999-01-22起施行）" in text_msg["text"]
    assert text_msg["buttons"] and all(b["payload"] and b["title"] for b in text_msg["buttons"])
    payload = custom_msg["custom"]
    assert payload["type"] == "policy_answer"
    assert payload["citations"] == [{"document": "失业保险条例", "article": "第十七条"}]
    assert payload["region"] == "全国" and payload["effective"] == "1999-01-22"
    assert payload["related"] == [b["payload"] for b in text_msg["buttons"]]
    assert events == [SlotSet("policy_audience", "worker")]


async def test_voice_channel_gets_the_short_answer(index: PolicyIndex) -> None:
    text_msgs, _ = await run(ActionAnswerPolicy(lambda: index), tracker("失业金能领几个月"))
    voice_msgs, _ = await run(
        ActionAnswerPolicy(lambda: index), tracker("失业金能领几个月", channel_mode="voice")
    )
    assert len(voice_msgs[0]["text"]) < len(text_msgs[0]["text"])
    assert "第十七条" in voice_msgs[0]["text"]


async def test_employer_intent_sets_audience(index: PolicyIndex) -> None:
    messages, events = await run(
        ActionAnswerPolicy(lambda: index),
        tracker("公司招残疾人有什么优惠", intent="ask_hiring_policy"),
    )
    assert "《残疾人就业条例》第八条" in messages[0]["text"]
    assert events == [SlotSet("policy_audience", "employer")]


async def test_unsure_offers_a_person(index: PolicyIndex, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JOBBOT_POLICY_SCORE_THRESHOLD", "0.99")
    from knowledge.settings import get_settings

    get_settings.cache_clear()
    messages, _ = await run(ActionAnswerPolicy(lambda: index), tracker("今天天气怎么样"))
    assert messages[0]["text"].startswith("我不太确定")
    assert {"title": "转人工服务", "payload": "/human_handoff"} in messages[0]["buttons"]
    assert messages[1]["custom"]["confident"] is False


async def test_missing_index_apologises_and_logs_the_command(
    caplog: pytest.LogCaptureFixture,
) -> None:
    def stale() -> PolicyIndex:
        raise PolicyIndexStale("the policy corpus changed", Path("/tmp/idx"))

    messages, events = await run(ActionAnswerPolicy(stale), tracker("失业金能领几个月"))
    assert len(messages) == 1
    assert messages[0]["text"] == UNAVAILABLE.text and messages[0]["text"].startswith("抱歉")
    assert {"title": "转人工服务", "payload": "/human_handoff"} in messages[0]["buttons"]
    assert "python -m knowledge.policy_index build" in caplog.text
    assert events == [SlotSet("policy_audience", "worker")]
    voice, _ = await run(
        ActionAnswerPolicy(stale), tracker("失业金能领几个月", channel_mode="voice")
    )
    assert voice[0]["text"] == UNAVAILABLE.short


async def test_button_payload_without_question_asks_for_one(index: PolicyIndex) -> None:
    def boom() -> PolicyIndex:
        raise AssertionError("the index is not needed for a bare payload")

    messages, _ = await run(ActionAnswerPolicy(boom), tracker("/ask_policy"))
    assert messages[0]["text"] == ASK_WORKER_QUESTION.text
    payloads = [b["payload"] for b in messages[0]["buttons"]]
    assert payloads == [p for _, p in ASK_WORKER_QUESTION.buttons]
    messages, _ = await run(
        ActionAnswerPolicy(boom), tracker("/ask_hiring_policy", "ask_hiring_policy")
    )
    assert messages[0]["text"] == ASK_EMPLOYER_QUESTION.text


@pytest.mark.parametrize("text", ["😀😀", "x" * 10_000, "what is unemployment insurance"])
async def test_bad_input_gets_a_clear_reply_without_the_index(text: str) -> None:
    def boom() -> PolicyIndex:
        raise AssertionError("the index is not needed for unusable input")

    messages, _ = await run(ActionAnswerPolicy(boom), tracker(text))
    assert len(messages) == 1 and messages[0]["text"]

"""Eligibility rules, their evaluator, the dynamic form and the result action."""

from __future__ import annotations

from pathlib import Path

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions.eligibility import (
    ELIG_SLOTS,
    ActionAskElig1,
    ActionAskElig3,
    ActionEligibilityResult,
    ValidateEligibilityForm,
    canonical_benefit,
)
from knowledge.eligibility import RulesError, Verdict, evaluate, get_rules, load_rules
from tests.dialogue.helpers import load_domain, slot, tracker, user

BENEFITS = {
    "unemployment_insurance",
    "hiring_subsidy",
    "flexible_social_insurance",
    "training_subsidy",
    "hardship_recognition",
}


def test_rules_cover_every_contract_benefit_with_sources() -> None:
    rules = get_rules()
    assert set(rules) == BENEFITS
    for rule in rules.values():
        assert 1 <= len(rule.questions) <= len(ELIG_SLOTS)
        assert rule.sources and all(s.startswith("《") for s in rule.sources)
    assert "《失业保险条例》第十四条" in rules["unemployment_insurance"].sources
    assert rules["hiring_subsidy"].audience == "employer"


def test_unemployment_insurance_verdicts() -> None:
    rule = get_rules()["unemployment_insurance"]
    assert evaluate(rule, [True, True, True]).verdict is Verdict.LIKELY
    quit_job = evaluate(rule, [True, False, True])
    assert quit_job.verdict is Verdict.NOT
    assert any("主动辞职" in r for r in quit_job.reasons)
    # Unanswered questions never give a confident yes.
    assert evaluate(rule, [True, None, True]).verdict is Verdict.LOCAL
    assert evaluate(rule, [True]).verdict is Verdict.LOCAL


def test_local_conditions_and_hard_conditions_combine() -> None:
    rule = get_rules()["flexible_social_insurance"]
    assert evaluate(rule, [False, True]).verdict is Verdict.LOCAL  # group may be wider locally
    assert evaluate(rule, [False, False]).verdict is Verdict.NOT  # no contributions: no subsidy
    assert evaluate(rule, [True, True]).verdict is Verdict.LIKELY
    # Recognition of hardship is always decided by provincial rules.
    hardship = get_rules()["hardship_recognition"]
    assert evaluate(hardship, [True, True, True, True]).verdict is Verdict.LOCAL


def test_malformed_rules_are_refused(tmp_path: Path) -> None:
    bad = tmp_path / "rules.yml"
    bad.write_text(
        "benefits:\n  x:\n    title: X\n    sources: []\n    questions:\n"
        "      - {text: q, on_no: not, if_yes: y, if_no: n}\n",
        encoding="utf-8",
    )
    with pytest.raises(RulesError, match="source"):
        load_rules(bad)
    bad.write_text("benefits: {}\n", encoding="utf-8")
    with pytest.raises(RulesError):
        load_rules(bad)


def test_canonical_benefit_accepts_chinese_names() -> None:
    assert canonical_benefit("失业金") == "unemployment_insurance"
    assert canonical_benefit("training_subsidy") == "training_subsidy"
    assert canonical_benefit("养老金") is None
    assert canonical_benefit(None) is None


async def test_form_asks_benefit_first_then_as_many_questions_as_the_benefit_has() -> None:
    domain = load_domain()
    form = ValidateEligibilityForm()
    dispatcher = CollectingDispatcher()
    empty = tracker(
        events=[user("能领补贴吗", "check_eligibility")], active_loop="eligibility_form"
    )
    assert await form.required_slots(["benefit"], dispatcher, empty, domain) == ["benefit"]

    events = [
        user("失业金", "inform", [{"entity": "benefit", "value": "失业金"}]),
        slot("benefit", "失业金"),
    ]
    t = tracker(slots={"benefit": "失业金"}, events=events, active_loop="eligibility_form")
    result = await form.run(dispatcher, t, domain)
    by_name = {e["name"]: e["value"] for e in result if e["event"] == "slot"}
    assert by_name["benefit"] == "unemployment_insurance"
    assert by_name["requested_slot"] == "elig_1"
    assert by_name["elig_1"] is None  # a new benefit clears old answers

    t2 = tracker(
        slots={"benefit": "flexible_social_insurance", "elig_1": True},
        events=[user("是", "affirm"), slot("elig_1", True)],
        active_loop="eligibility_form",
    )
    result = await form.run(dispatcher, t2, domain)
    assert {
        "event": "slot",
        "timestamp": None,
        "name": "requested_slot",
        "value": "elig_2",
    } in result
    t3 = tracker(
        slots={"benefit": "flexible_social_insurance", "elig_1": True, "elig_2": False},
        events=[user("没有", "deny"), slot("elig_2", False)],
        active_loop="eligibility_form",
    )
    result = await form.run(dispatcher, t3, domain)
    assert result[-1]["name"] == "requested_slot" and result[-1]["value"] is None


async def test_unknown_benefit_is_refused_with_a_reply() -> None:
    domain = load_domain()
    dispatcher = CollectingDispatcher()
    t = tracker(
        slots={"benefit": "养老金"},
        events=[user("养老金", "inform"), slot("benefit", "养老金")],
        active_loop="eligibility_form",
    )
    result = await ValidateEligibilityForm().run(dispatcher, t, domain)
    assert {e["name"]: e["value"] for e in result}["benefit"] is None
    assert dispatcher.messages[0]["response"] == "utter_unknown_benefit"


async def test_ask_actions_pick_the_question_of_the_chosen_benefit() -> None:
    domain = load_domain()
    dispatcher = CollectingDispatcher()
    t = tracker(slots={"benefit": "hiring_subsidy"})
    await ActionAskElig1().run(dispatcher, t, domain)
    message = dispatcher.messages[0]
    assert "高校毕业生" in message["text"] and "1/3" in message["text"]
    assert [b["payload"] for b in message["buttons"]] == ["/affirm", "/deny"]

    voice = CollectingDispatcher()
    await ActionAskElig3().run(
        voice, tracker(slots={"benefit": "unemployment_insurance", "channel_mode": "voice"}), domain
    )
    assert voice.messages[0]["text"].startswith("第3个问题")
    assert "失业登记" in voice.messages[0]["text"]


@pytest.mark.parametrize(
    ("benefit", "answers", "expected"),
    [
        ("unemployment_insurance", [True, True, True], "很可能符合条件"),
        ("unemployment_insurance", [True, False, True], "很可能不符合条件"),
        ("training_subsidy", [True, False], "要看当地的具体规定"),
    ],
)
async def test_result_states_verdict_reasons_source_and_resets(
    benefit: str, answers: list[bool], expected: str
) -> None:
    slots = {"benefit": benefit, **{f"elig_{i + 1}": a for i, a in enumerate(answers)}}
    dispatcher = CollectingDispatcher()
    events = await ActionEligibilityResult().run(dispatcher, tracker(slots=slots), load_domain())
    text = dispatcher.messages[0]["text"]
    assert expected in text
    assert "依据：" in text and get_rules()[benefit].sources[0] in text
    assert "审核为准" in text  # the local office decides
    assert {e["name"] for e in events} == {"benefit", *ELIG_SLOTS}
    assert all(e["value"] is None for e in events)


async def test_voice_result_is_short() -> None:
    dispatcher = CollectingDispatcher()
    slots = {"benefit": "hardship_recognition", "channel_mode": "voice"} | {
        f"elig_{i}": True for i in range(1, 5)
    }
    await ActionEligibilityResult().run(dispatcher, tracker(slots=slots), load_domain())
    text = dispatcher.messages[0]["text"]
    assert "\n" not in text and "依据是" in text

"""The dialogue-core domain matches the contract, and every response the actions use exists."""

from __future__ import annotations

import re
from typing import Any

import yaml

from tests.dialogue.helpers import ROOT, load_domain
from tests.helpers import all_strings

CONTRACT_INTENTS = set(
    [
        "greet",
        "goodbye",
        "thank",
        "affirm",
        "deny",
        "help",
        "bot_challenge",
        "restart",
        "repeat",
        "out_of_scope",
        "human_handoff",
        "search_job",
        "inform",
        "more_results",
        "ask_policy",
        "ask_hiring_policy",
        "check_eligibility",
        "find_service_station",
        "post_vacancy",
        "share_location",
    ]
)
CONTRACT_ENTITIES = set(
    [
        "city",
        "district",
        "job_type",
        "salary",
        "employment_type",
        "group",
        "benefit",
        "company",
        "phone",
        "person_name",
        "headcount",
        "latitude",
        "longitude",
    ]
)
ACTION_FILES = ("session", "fallback", "eligibility", "stations", "handoff")


def test_core_declares_contract_intents_and_entities() -> None:
    core = yaml.safe_load((ROOT / "bot/domain/core.yml").read_text(encoding="utf-8"))
    assert set(core["intents"]) == CONTRACT_INTENTS
    assert set(core["entities"]) == CONTRACT_ENTITIES


def test_every_response_used_by_the_actions_exists() -> None:
    responses = load_domain()["responses"]
    used: set[str] = set()
    for name in ACTION_FILES:
        source = (ROOT / "actions" / f"{name}.py").read_text(encoding="utf-8")
        used |= set(re.findall(r'response="(utter_[a-z_]+)"', source))
    assert used and used <= set(responses), used - set(responses)
    assert "utter_action_failed" in responses  # the action server's reply when an action crashes


def test_long_responses_have_short_voice_variants() -> None:
    responses = load_domain()["responses"]
    for name in ("utter_greet", "utter_help", "utter_out_of_scope", "utter_ask_location"):
        variants = responses[name]
        voice = [v for v in variants if v.get("condition")]
        assert voice, f"{name} has no voice variant"
        assert voice[0]["condition"] == [{"type": "slot", "name": "channel_mode", "value": "voice"}]
        assert len(voice[0].get("buttons", [])) <= 3
        assert "\n" not in voice[0]["text"]


def test_domain_actions_are_implemented() -> None:
    import actions.eligibility
    import actions.fallback
    import actions.handoff
    import actions.session
    import actions.stations

    names = set()
    for module in (
        actions.session,
        actions.fallback,
        actions.eligibility,
        actions.stations,
        actions.handoff,
    ):
        for obj in vars(module).values():
            if isinstance(obj, type) and obj.__module__ == module.__name__ and hasattr(obj, "name"):
                try:
                    names.add(obj().name())
                except (NotImplementedError, TypeError):
                    continue
    assert set(load_domain()["actions"]) <= names


def test_response_placeholders_name_a_slot_or_an_action_argument() -> None:
    """Rasa fills `{name}` in responses from slots and the action's keyword arguments.

    Anything else in single braces (a button's `/inform{"benefit": ...}` JSON) is a lookup
    that fails: Rasa logs an ERROR with the slot values on every use. Literal braces are
    written doubled, `{{ }}`, which Rasa's formatter turns back into one.
    """
    slots: set[str] = set()
    responses: dict[str, Any] = {}
    for path in sorted((ROOT / "bot" / "domain").glob("*.yml")):
        part = yaml.safe_load(path.read_text(encoding="utf-8"))
        slots |= set(part.get("slots") or {})
        responses.update(part.get("responses") or {})
    actions = "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "actions").glob("*.py"))
    unknown = []
    for name, variants in responses.items():
        for text in all_strings(variants):
            unescaped = text.replace("{{", "").replace("}}", "")
            for key in re.findall(r"{([^\n{}]+?)}", unescaped):  # Rasa's placeholder pattern
                if key not in slots and not re.search(rf"\b{re.escape(key)}=", actions):
                    unknown.append((name, key))
    assert not unknown, f"placeholders that are neither slots nor action arguments: {unknown}"

"""Guided eligibility checks: load the rules in ``eligibility_rules.yml`` and turn answers into a verdict."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

RULES_PATH = Path(__file__).with_name("eligibility_rules.yml")
MAX_QUESTIONS = 5  # the domain has slots elig_1 … elig_5


class Verdict(StrEnum):
    LIKELY = "likely"
    NOT = "not"
    LOCAL = "local"


VERDICT_TEXT = {
    Verdict.LIKELY: "很可能符合条件",
    Verdict.NOT: "很可能不符合条件",
    Verdict.LOCAL: "要看当地的具体规定",
}


@dataclass(frozen=True)
class Question:
    text: str
    voice: str
    on_no: Verdict  # NOT or LOCAL
    yes_reason: str
    no_reason: str


@dataclass(frozen=True)
class BenefitRule:
    key: str
    title: str
    audience: str
    questions: tuple[Question, ...]
    all_yes: Verdict
    sources: tuple[str, ...]
    note: str


@dataclass(frozen=True)
class Result:
    benefit: BenefitRule
    verdict: Verdict
    reasons: tuple[str, ...]

    @property
    def verdict_text(self) -> str:
        return VERDICT_TEXT[self.verdict]


class RulesError(ValueError):
    """The rules file is malformed."""


def _parse_rule(key: str, raw: Mapping[str, Any]) -> BenefitRule:
    try:
        questions = tuple(
            Question(
                text=str(q["text"]),
                voice=str(q.get("voice") or q["text"]),
                on_no=Verdict(q["on_no"]),
                yes_reason=str(q["if_yes"]),
                no_reason=str(q["if_no"]),
            )
            for q in raw["questions"]
        )
        rule = BenefitRule(
            key=key,
            title=str(raw["title"]),
            audience=str(raw.get("audience", "worker")),
            questions=questions,
            all_yes=Verdict(raw.get("all_yes", "likely")),
            sources=tuple(str(s) for s in raw["sources"]),
            note=str(raw.get("note", "")),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise RulesError(f"eligibility rule {key!r}: {exc}") from exc
    if not 1 <= len(questions) <= MAX_QUESTIONS:
        raise RulesError(f"eligibility rule {key!r}: needs 1..{MAX_QUESTIONS} questions")
    if any(q.on_no is Verdict.LIKELY for q in questions):
        raise RulesError(f"eligibility rule {key!r}: on_no must be 'not' or 'local'")
    if not rule.sources:
        raise RulesError(f"eligibility rule {key!r}: a rule needs a source")
    return rule


def load_rules(path: Path = RULES_PATH) -> dict[str, BenefitRule]:
    """Read and check the rules file; keys are the canonical ``benefit`` entity values."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    benefits = (data or {}).get("benefits")
    if not isinstance(benefits, dict) or not benefits:
        raise RulesError(f"{path}: no 'benefits' mapping")
    return {key: _parse_rule(key, raw) for key, raw in benefits.items()}


@lru_cache(maxsize=1)
def get_rules() -> dict[str, BenefitRule]:
    """The shipped rules, loaded once per process."""
    return load_rules()


def evaluate(rule: BenefitRule, answers: Sequence[bool | None]) -> Result:
    """Turn yes/no answers (one per question, in order) into a verdict with reasons.

    A "no" to a legal condition makes the verdict "likely not"; a "no" to a condition that
    local rules may relax makes it "depends on local rules" unless another answer already
    rules it out. Unanswered questions count as unknown and keep the verdict local.
    """
    reasons: list[str] = []
    verdict = rule.all_yes
    missing = False
    for question, answer in zip(rule.questions, answers, strict=False):
        if answer is None:
            missing = True
        elif answer:
            reasons.append(question.yes_reason)
        else:
            reasons.append(question.no_reason)
            if question.on_no is Verdict.NOT:
                verdict = Verdict.NOT
            elif verdict is not Verdict.NOT:
                verdict = Verdict.LOCAL
    if len(answers) < len(rule.questions):
        missing = True
    if missing and verdict is Verdict.LIKELY:
        verdict = Verdict.LOCAL
    return Result(benefit=rule, verdict=verdict, reasons=tuple(reasons))

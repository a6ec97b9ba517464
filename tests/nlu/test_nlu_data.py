"""NLU training data: contract names, coverage of the lookups, regexes, and no leak of eval data."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
NLU = ROOT / "nlu"
ANNOTATION = re.compile(r"\[([^\]]+)\](?:\([^)]+\)|\{[^}]+\})")
ENTITY_NAME = re.compile(r"\]\(([^)]+)\)|\"entity\":\s*\"([^\"]+)\"")

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
BENEFITS = {
    "unemployment_insurance",
    "hiring_subsidy",
    "flexible_social_insurance",
    "training_subsidy",
    "hardship_recognition",
}
MAIN_INTENTS = {
    "search_job": 80,
    "inform": 80,
    "ask_policy": 80,
    "ask_hiring_policy": 80,
    "out_of_scope": 80,
    "more_results": 40,
    "post_vacancy": 40,
    "check_eligibility": 40,
    "find_service_station": 40,
    "human_handoff": 40,
}


def _blocks() -> list[tuple[Path, dict]]:
    out = []
    for path in sorted(NLU.rglob("*.yml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        assert data["version"] == "3.1", path
        out += [(path, block) for block in data["nlu"]]
    return out


def _items(block: dict) -> list[str]:
    return [line[2:].strip() for line in block["examples"].splitlines() if line.startswith("- ")]


def _examples() -> dict[str, list[str]]:
    by_intent: dict[str, list[str]] = {}
    for _, block in _blocks():
        if "intent" in block:
            by_intent.setdefault(block["intent"], []).extend(_items(block))
    return by_intent


def _plain(example: str) -> str:
    return ANNOTATION.sub(lambda m: m.group(1), example)


def test_intents_are_the_contract_and_main_ones_have_enough_examples() -> None:
    examples = _examples()
    assert set(examples) == CONTRACT_INTENTS
    counts = {intent: len(set(items)) for intent, items in examples.items()}
    short = {i: counts[i] for i, n in MAIN_INTENTS.items() if counts[i] < n}
    assert not short, short


def test_every_annotated_entity_is_in_the_contract() -> None:
    used: Counter[str] = Counter()
    for items in _examples().values():
        for example in items:
            for a, b in ENTITY_NAME.findall(example):
                used[a or b] += 1
    assert set(used) <= CONTRACT_ENTITIES, set(used) - CONTRACT_ENTITIES
    for name in ("city", "district", "job_type", "salary", "employment_type", "group", "benefit"):
        assert used[name] >= 10, (name, used[name])


def test_no_example_has_two_intents() -> None:
    seen: dict[str, str] = {}
    clashes = []
    for intent, items in _examples().items():
        for example in items:
            text = _plain(example)
            if seen.setdefault(text, intent) != intent:
                clashes.append((text, seen[text], intent))
    assert not clashes, clashes[:10]


def test_city_lookup_covers_every_prefecture_and_synonyms_are_canonical() -> None:
    lookups = {b["lookup"]: _items(b) for _, b in _blocks() if "lookup" in b}
    cities = set(lookups["city"])
    # 333 prefecture-level divisions + 4 municipalities, each by its full official name.
    full = {c for c in cities if c.endswith(("市", "州", "地区", "盟"))}
    assert len(full) >= 337
    for name in (
        "北京市",
        "杭州市",
        "延边朝鲜族自治州",
        "阿里地区",
        "锡林郭勒盟",
        "三沙市",
        "儋州市",
    ):
        assert name in cities
    synonyms = {b["synonym"]: _items(b) for _, b in _blocks() if "synonym" in b}
    assert "杭州市" in synonyms["杭州"]
    assert "送外卖" in synonyms["外卖骑手"] and "看大门的" in synonyms["保安"]
    assert "做饭的" in synonyms["厨师"]
    assert {"大学生", "应届生"} <= set(synonyms["高校毕业生"])
    assert set(synonyms) >= BENEFITS
    # A spoken form maps to one canonical value only.
    variants = Counter(v.lower() for items in synonyms.values() for v in items)
    assert not [v for v, n in variants.items() if n > 1]
    districts = set(lookups["district"])
    assert {
        "余杭区",
        "浦东新区",
        "海淀区",
        "天河区",
        "南山区",
        "武侯区",
        "雁塔区",
        "江宁区",
    } <= districts


@pytest.mark.parametrize(
    ("entity", "text", "expected"),
    [
        ("salary", "工资5000以上", "5000以上"),
        ("salary", "五千左右", "五千左右"),
        ("salary", "月薪5k", "5k"),
        ("salary", "6000-8000的", "6000-8000"),
        ("salary", "200一天", "200一天"),
        ("salary", "12306怎么抢票", None),
        ("phone", "电话13812345678", "13812345678"),
        ("phone", "0571-88888888", None),
        ("headcount", "招3个人", "3个人"),
        ("headcount", "8000一个月", None),
    ],
)
def test_regexes(entity: str, text: str, expected: str | None) -> None:
    patterns = [
        _items(b)[0] for _, b in _blocks() if b.get("regex") == entity
    ]  # one alternation per entity
    assert len(patterns) == 1
    match = re.search(patterns[0], text)
    assert (match.group(0) if match else None) == expected


def test_no_evaluation_utterance_is_in_the_training_data(shared_data: Path) -> None:
    ood = shared_data / "ood" / "smp2017_ecdt_task1.tsv"
    lines = ood.read_text(encoding="utf-8").splitlines()[1:]
    held_out = {line.split("\t")[0].strip() for line in lines if line.strip()}
    training = {_plain(e) for items in _examples().values() for e in items}
    leaked = sorted(training & held_out)
    assert not leaked, leaked

"""Checks on the policy corpus in knowledge/policies/*.yml: schema, coverage, own words.

The loader here is deliberately tiny and local to the test; the real loader lives in
`knowledge/` (policy feature). The copy check guards the one hard rule of the corpus:
facts carry over from the laws, sentences do not.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import unicodedata
from collections import Counter
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.helpers import all_strings

ROOT = Path(__file__).resolve().parents[2]
POLICY_DIR = ROOT / "knowledge" / "policies"
LAWS_DIR = ROOT.parent / "shared" / "data" / "laws"
EVAL_DIR = ROOT.parent / "shared" / "data" / "eval"

REQUIRED = (
    "id",
    "title",
    "audience",
    "groups",
    "region",
    "effective",
    "answer",
    "short",
    "aliases",
    "related",
)
AUDIENCES = {"worker", "employer", "both"}
GROUPS = {
    "高校毕业生",
    "农民工",
    "脱贫劳动力",
    "失业人员",
    "就业困难人员",
    "零就业家庭",
    "退役军人",
    "残疾人",
    "灵活就业人员",
    "用人单位",
}
ID_RE = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
CN_NUM = "零一二三四五六七八九十百"
ARTICLE_RE = re.compile(rf"^第[{CN_NUM}]+条(第[{CN_NUM}]+款)?(第[{CN_NUM}]+项)?$")
REGION_RE = re.compile(r"^(全国|.+(省|市|自治区|特别行政区))$")
WINDOW = 20
CJK = "\u3000-\u303f\u4e00-\u9fff\uff00-\uffef"
CJK_SPACE_RE = re.compile(rf"[{CJK}]\s|\s[{CJK}]")

# Every topic the issue lists, with words of which at least one must occur in some entry.
TOPICS: dict[str, tuple[str, ...]] = {
    "失业保险条件": ("领取失业保险金的条件", "失业金的条件", "三个条件"),
    "失业保险期限": ("24个月",),
    "失业保险标准": ("最低生活保障", "低保"),
    "怎么领失业金": ("申领",),
    "失业登记": ("失业登记",),
    "领金期间医保": ("医疗保险",),
    "失业补助金": ("失业补助金",),
    "就业困难人员认定": ("就业困难人员认定", "认定为就业困难人员"),
    "就业援助": ("就业援助",),
    "零就业家庭": ("零就业家庭",),
    "公益性岗位": ("公益性岗位",),
    "离校未就业": ("离校未就业",),
    "就业见习": ("见习补贴",),
    "一次性吸纳就业补贴": ("一次性吸纳就业补贴", "扩岗补助"),
    "小微企业社保补贴": ("社会保险补贴", "社保补贴"),
    "农民工工资": ("农民工工资",),
    "工资专用账户": ("工资专用账户",),
    "实名制": ("实名制",),
    "总包代发": ("代发",),
    "欠薪投诉": ("欠薪", "拖欠工资"),
    "返乡创业": ("返乡入乡创业", "返乡创业"),
    "脱贫劳动力": ("脱贫劳动力", "脱贫人口"),
    "帮扶车间": ("帮扶车间",),
    "交通补助": ("交通补助", "交通补贴"),
    "退役军人": ("退役军人",),
    "按比例就业": ("1.5%",),
    "残疾人就业保障金": ("残疾人就业保障金",),
    "超比例奖励": ("超比例",),
    "集中就业": ("集中就业", "集中安排残疾人"),
    "盲人按摩": ("盲人按摩",),
    "灵活就业社保补贴": ("灵活就业",),
    "零工市场": ("零工市场",),
    "新就业形态": ("新就业形态",),
    "职业技能培训补贴": ("职业技能培训补贴", "职业培训补贴"),
    "技能提升补贴": ("技能提升补贴",),
    "创业担保贷款": ("创业担保贷款",),
    "创业补贴": ("一次性创业补贴",),
    "书面劳动合同": ("书面劳动合同", "书面合同"),
    "二倍工资": ("二倍工资", "双倍工资"),
    "无固定期限": ("无固定期限",),
    "试用期": ("试用期",),
    "工时": ("44小时", "40小时"),
    "加班费": ("150%", "300%"),
    "经济补偿": ("经济补偿",),
    "赔偿金": ("赔偿金",),
    "竞业限制": ("竞业限制",),
    "工伤认定": ("工伤认定",),
    "停工留薪期": ("停工留薪期",),
    "单位社保义务": ("社会保险登记", "参保登记"),
    "稳岗返还": ("稳岗返还",),
    "劳动争议调解": ("调解",),
    "仲裁时效": ("仲裁时效",),
    "一裁终局": ("一裁终局", "终局裁决"),
    "仲裁不收费": ("不收费", "不收钱", "免费"),
    "基层就业服务站": ("基层就业服务站",),
    "15分钟就业服务圈": ("15分钟就业服务圈",),
    "家门口就业服务站": ("家门口就业服务站",),
    "大数据+铁脚板": ("大数据+铁脚板",),
    "一库一平台": ("一库一平台",),
    "六级管理五级服务": ("六级管理五级服务",),
}


def load_entries(policy_dir: Path = POLICY_DIR) -> list[tuple[str, dict[str, Any]]]:
    """Every entry as (file name, mapping), in file order."""
    out: list[tuple[str, dict[str, Any]]] = []
    for path in sorted(policy_dir.glob("*.yml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        assert isinstance(data, dict) and isinstance(data.get("entries"), list), (
            f"{path.name}: needs a top-level `entries:` list"
        )
        out.extend((path.name, e) for e in data["entries"])
    return out


def sources_of(entry: dict[str, Any]) -> list[dict[str, str]]:
    if "sources" in entry:
        return list(entry["sources"])
    return [entry["source"]]


def normalise(text: str) -> str:
    """NFKC, then drop whitespace, punctuation and symbols: what is left is the wording."""
    text = unicodedata.normalize("NFKC", text)
    return "".join(ch for ch in text if unicodedata.category(ch)[0] not in "PZSC")


def windows(text: str, size: int = WINDOW) -> set[str]:
    return {text[i : i + size] for i in range(len(text) - size + 1)}


@cache
def law_windows() -> frozenset[str]:
    out: set[str] = set()
    for path in LAWS_DIR.rglob("*"):
        if path.is_file():
            out |= windows(normalise(path.read_text(encoding="utf-8")))
    return frozenset(out)


@cache
def law_texts_by_title() -> dict[str, str]:
    """Law title (the `# ` line, without 中华人民共和国) → full text."""
    out: dict[str, str] = {}
    for path in LAWS_DIR.rglob("*.md"):
        text = path.read_text(encoding="utf-8")
        first = text.lstrip().splitlines()[0].lstrip("# ").strip()
        out[first.removeprefix("中华人民共和国")] = text
    return out


ENTRIES = load_entries()
BY_ID = {e["id"]: e for _, e in ENTRIES}


def test_enough_entries() -> None:
    assert len(ENTRIES) >= 80, f"only {len(ENTRIES)} entries"


def test_ids_unique_and_kebab() -> None:
    counts = Counter(e["id"] for _, e in ENTRIES)
    assert not [i for i, n in counts.items() if n > 1], "duplicate ids"
    assert not [i for i in counts if not ID_RE.match(i)], "ids must be kebab-case"


@pytest.mark.parametrize(("fname", "entry"), ENTRIES, ids=[e["id"] for _, e in ENTRIES])
def test_entry_schema(fname: str, entry: dict[str, Any]) -> None:
    missing = [k for k in REQUIRED if k not in entry]
    assert not missing, f"{fname}: {entry.get('id')} lacks {missing}"
    assert ("source" in entry) != ("sources" in entry), "exactly one of source / sources"
    assert entry["audience"] in AUDIENCES
    assert isinstance(entry["groups"], list) and set(entry["groups"]) <= GROUPS, entry["groups"]
    assert isinstance(entry["region"], str) and REGION_RE.match(entry["region"]), entry["region"]
    eff = entry["effective"]
    date = eff if isinstance(eff, dt.date) else dt.date.fromisoformat(str(eff))
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", date.isoformat())
    assert dt.date(1990, 1, 1) <= date <= dt.date.today(), "effective date out of range"
    srcs = sources_of(entry)
    assert srcs, "at least one source"
    for src in srcs:
        doc, art = src["document"], src["article"]
        assert doc and not re.search(r"[《》]", doc), f"document without 《》: {doc!r}"
        assert art == "" or ARTICLE_RE.match(art), f"article like 第十七条 or empty: {art!r}"
    for key in ("title", "answer", "short"):
        assert isinstance(entry[key], str) and entry[key].strip(), key
        # A folded YAML line break inside Chinese text turns into a stray space.
        assert not CJK_SPACE_RE.search(entry[key]), f"{key}: whitespace next to Chinese text"
    assert 40 <= len(entry["answer"]) <= 600, f"answer length {len(entry['answer'])}"
    assert len(entry["short"]) <= 120, f"short is {len(entry['short'])} characters"
    assert len(entry["short"]) < len(entry["answer"])
    aliases = entry["aliases"]
    assert 4 <= len(aliases) <= 8 and len(set(aliases)) == len(aliases), "4–8 distinct aliases"
    assert all(isinstance(a, str) and 3 <= len(a) <= 40 for a in aliases)
    related = entry["related"]
    assert 2 <= len(related) <= 3, "2–3 related ids"
    assert entry["id"] not in related
    unknown = [r for r in related if r not in BY_ID]
    assert not unknown, f"related ids that do not exist: {unknown}"
    if "local_amounts_vary" in entry:
        assert isinstance(entry["local_amounts_vary"], bool)


def test_every_topic_covered() -> None:
    def text(e: dict[str, Any]) -> str:
        return " ".join([e["title"], e["answer"], e["short"], *e["aliases"]])

    corpus = [text(e) for _, e in ENTRIES]
    uncovered = [t for t, words in TOPICS.items() if not any(w in c for c in corpus for w in words)]
    assert not uncovered, f"topics without an entry: {uncovered}"


def test_audiences_and_regions_mixed() -> None:
    audiences = Counter(e["audience"] for _, e in ENTRIES)
    assert audiences["employer"] >= 12 and audiences["worker"] >= 40, audiences
    local = [e for _, e in ENTRIES if e["region"] != "全国"]
    assert len(local) >= 8, "at least 8 local entries"
    assert len({e["region"] for e in local}) >= 4, "local entries from at least 4 places"


def test_amount_entries_say_local_amounts_vary() -> None:
    """Entries flagged local_amounts_vary tell the user so in the answer."""
    hint = re.compile(r"各地|当地|地方|本地|以.{0,8}为准|不同城市|各省|省里|市里")
    bad = [
        e["id"] for _, e in ENTRIES if e.get("local_amounts_vary") and not hint.search(e["answer"])
    ]
    assert not bad, f"local_amounts_vary but the answer does not mention local variation: {bad}"


def test_articles_exist_in_the_cited_law() -> None:
    """Where the cited document is one of the shared laws, the article must exist in it."""
    if not LAWS_DIR.is_dir():
        pytest.skip(f"laws not found at {LAWS_DIR} (only present beside the project checkout)")
    laws = law_texts_by_title()
    checked, missing = 0, []
    for _, e in ENTRIES:
        for src in sources_of(e):
            text = laws.get(src["document"])
            if text is None or not src["article"]:
                continue
            art = re.match(rf"第[{CN_NUM}]+条", src["article"]).group(0)  # type: ignore[union-attr]
            checked += 1
            if not re.search(rf"(^|\n){art}", text):
                missing.append(f"{e['id']}: {src['document']} {art}")
    assert checked >= 60, f"only {checked} citations could be checked against the laws"
    assert not missing, missing


def test_no_copied_sentences_from_the_laws() -> None:
    """No 20-character window of any answer/short/title occurs verbatim in the laws."""
    if not LAWS_DIR.is_dir():
        pytest.skip(f"laws not found at {LAWS_DIR} (only present beside the project checkout)")
    law = law_windows()
    assert len(law) > 50_000, "the laws folder looks empty"
    hits = []
    for _, e in ENTRIES:
        for key in ("title", "answer", "short"):
            for w in windows(normalise(e[key])):
                if w in law:
                    hits.append(f"{e['id']}.{key}: {w}")
    assert not hits, "copied from the laws:\n" + "\n".join(hits)


def test_copy_check_catches_a_pasted_clause() -> None:
    """The check itself works: a clause pasted from a law is found."""
    if not LAWS_DIR.is_dir():
        pytest.skip(f"laws not found at {LAWS_DIR} (only present beside the project checkout)")
    text = next((LAWS_DIR / "national").glob("失业保险条例*.md")).read_text(encoding="utf-8")
    clause = re.search(r"第十七条 (.+)", text).group(1)  # type: ignore[union-attr]
    assert windows(normalise(clause[:40])) & law_windows()


def test_no_overlap_with_the_evaluation_questions() -> None:
    """Titles and aliases must not reuse the evaluation questions (a leaked eval set measures nothing)."""
    if not EVAL_DIR.is_dir():
        pytest.skip(
            f"evaluation data not found at {EVAL_DIR} (only present beside the project checkout)"
        )
    size = 10
    ours: dict[str, str] = {}
    for _, e in ENTRIES:
        for key, value in (("title", e["title"]), *(("alias", a) for a in e["aliases"])):
            for w in windows(normalise(value), size):
                ours.setdefault(w, f"{e['id']}.{key}")
    leaked: set[str] = set()
    seen = 0
    for path in EVAL_DIR.glob("*.jsonl"):
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            for s in all_strings(json.loads(line)):
                seen += 1
                leaked |= {ours[w] for w in windows(normalise(s), size) if w in ours}
    assert seen > 100, "evaluation files look empty"
    assert not leaked, (
        f"entries sharing a {size}-character run with the evaluation files: {sorted(leaked)}"
    )

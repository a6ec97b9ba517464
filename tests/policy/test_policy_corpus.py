"""The corpus loader: the shipped corpus is valid; broken entries are refused clearly."""

from __future__ import annotations

from pathlib import Path

import pytest

from knowledge.policy_corpus import (
    AUDIENCES,
    CorpusError,
    corpus_hash,
    corpus_problems,
    load_corpus,
)

GOOD = """
entries:
  - id: ui-duration
    title: 失业保险金能领多久
    audience: worker
    groups: [失业人员]
    region: 全国
    source: {document: 失业保险条例, article: 第十七条}
    effective: 1999-01-22
    answer: 缴费年限越长，能领的月数越多。
    short: 最长24个月。
    aliases: [失业金能领几个月]
    related: []
    local_amounts_vary: true
"""


def write(tmp_path: Path, text: str, name: str = "a.yml") -> Path:
    (tmp_path / name).write_text(text, encoding="utf-8")
    return tmp_path


def test_shipped_corpus_is_valid() -> None:
    entries = load_corpus()
    if not entries:
        pytest.skip("knowledge/policies/ holds no entries yet")
    assert len({e.id for e in entries}) == len(entries)
    for e in entries:
        assert e.audience in AUDIENCES
        assert e.citations and all(c.document for c in e.citations)
        assert len(e.effective) == 10 and e.answer and e.short
    assert corpus_problems(entries) == []


def test_authoring_slips_are_reported(tmp_path: Path) -> None:
    slipped = GOOD.replace(
        "    source: {document: 失业保险条例, article: 第十七条}\n",
        "    sources:\n"
        "      - {document: 失业保险条例, article: 第十七条}\n"
        "      - {document: 失业保险条例, article: 第十七条}\n",
    ).replace("related: []", "related: [ui-nowhere]")
    problems = corpus_problems(load_corpus(write(tmp_path, slipped)))
    assert problems == [
        "ui-duration: related id 'ui-nowhere' does not exist",
        "ui-duration: a source is cited twice",
    ]


def test_load_parses_everything(tmp_path: Path) -> None:
    (entry,) = load_corpus(write(tmp_path, GOOD))
    assert entry.effective == "1999-01-22"  # YAML's date becomes ISO text
    assert entry.citations[0].label() == "《失业保险条例》第十七条"
    assert entry.local_amounts_vary is True
    assert entry.groups == ("失业人员",)
    assert entry.is_national


def test_hash_changes_with_content(tmp_path: Path) -> None:
    before = corpus_hash(load_corpus(write(tmp_path, GOOD)))
    after = corpus_hash(load_corpus(write(tmp_path, GOOD.replace("最长24个月", "最长两年"))))
    assert before != after


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("audience: worker", "audience: boss"), "audience"),
        (("effective: 1999-01-22", "effective: 1999年"), "YYYY-MM-DD"),
        (("    source: {document: 失业保险条例, article: 第十七条}\n", ""), "source"),
        (("    answer: 缴费年限越长，能领的月数越多。\n", ""), "answer"),
    ],
)
def test_broken_entries_are_refused(tmp_path: Path, change: tuple[str, str], message: str) -> None:
    with pytest.raises(CorpusError, match=message):
        load_corpus(write(tmp_path, GOOD.replace(*change)))


def test_duplicate_ids_and_bad_yaml(tmp_path: Path) -> None:
    dup = tmp_path / "dup"
    dup.mkdir()
    write(dup, GOOD, "a.yml")
    write(dup, GOOD, "b.yml")
    with pytest.raises(CorpusError, match="duplicate"):
        load_corpus(dup)
    bad = tmp_path / "bad"
    bad.mkdir()
    with pytest.raises(CorpusError, match="invalid YAML"):
        load_corpus(write(bad, "entries: ["))
    with pytest.raises(CorpusError, match="entries"):
        load_corpus(write(bad, "- just a list"))


def test_missing_folder_is_an_empty_corpus(tmp_path: Path) -> None:
    assert load_corpus(tmp_path / "none") == ()


def test_held_out_answer_questions_are_not_in_the_corpus() -> None:
    """bench/policy_answers.py measures on questions the corpus does not contain."""
    from bench.policy_answers import load_questions

    entries = load_corpus()
    ids = {f"entry:{e.id}" for e in entries}
    asked = {a for e in entries for a in (*e.aliases, e.title)}
    questions = load_questions()
    assert len(questions) >= 80
    for row in questions:
        assert row["ids"] and row["ids"] <= ids, row
        assert row["q"] not in asked, row["q"]

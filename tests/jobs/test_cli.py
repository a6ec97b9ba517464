"""The command line: generate, import and search against a temporary store."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from knowledge.jobs import JobStore
from knowledge.jobs.__main__ import main


def test_generate_import_and_reject_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    assert main(["--db", db, "generate", "--n", "300", "--seed", "2"]) == 0
    assert "新增 300 条" in capsys.readouterr().out
    assert main(["--db", db, "generate", "--n", "300", "--seed", "2"]) == 0
    assert "新增 0 条" in capsys.readouterr().out

    feed = tmp_path / "feed.json"
    rows = [
        {
            "id": "1",
            "title": "快递员",
            "company": {"name": "顺安速运"},
            "location": "杭州市西湖区",
            "salary": "8千-1.2万",
            "job_type": "快递员",
        },
        {
            "id": "2",
            "title": "快递员",
            "company": {"name": "顺安速运"},
            "location": "杭州",
            "salary": "很多钱",
        },
    ]
    feed.write_text(json.dumps({"jobs": rows}, ensure_ascii=False), encoding="utf-8")
    assert main(["--db", db, "import", str(feed), "--mapping", "generic_json"]) == 0
    out = capsys.readouterr().out
    assert "新增 1" in out and "拒绝 1 行" in out and "第2行 [salary] 无法识别的薪资：很多钱" in out
    assert JobStore(db).count() == 301


def test_unknown_mapping_names_the_known_ones(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="51job"):
        main(
            [
                "--db",
                f"sqlite:///{tmp_path / 'x.sqlite3'}",
                "import",
                "feed.csv",
                "--mapping",
                "nope",
            ]
        )

"""Document ingestion: article chunking of real laws, numerals, DOCX and PDF."""

from __future__ import annotations

from pathlib import Path

import pytest

from knowledge.documents import (
    chinese_to_int,
    int_to_chinese,
    load_document,
    load_folder,
    normalize_region,
    region_from_title,
)

from .conftest import LAWS_DIR

needs_laws = pytest.mark.skipif(
    not LAWS_DIR.is_dir(), reason=f"real statutes not found at {LAWS_DIR}"
)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("一", 1),
        ("十", 10),
        ("十四", 14),
        ("二十", 20),
        ("一百", 100),
        ("一百零二", 102),
        ("一百一十", 110),
        ("三百一十五", 315),
        ("一千零一", 1001),
        ("两百", 200),
        ("12", 12),
        ("１２", 12),
    ],
)
def test_chinese_numerals(text: str, value: int) -> None:
    assert chinese_to_int(text) == value


def test_numerals_round_trip() -> None:
    for n in range(1, 1500):
        assert chinese_to_int(int_to_chinese(n)) == n
    assert int_to_chinese(14) == "十四"
    assert int_to_chinese(100) == "一百"
    assert int_to_chinese(102) == "一百零二"
    with pytest.raises(ValueError):
        chinese_to_int("第条")


def test_markdown_law_chunks(law_folder: Path) -> None:
    chunks = load_folder(law_folder)
    labels = [c.article_label for c in chunks]
    assert labels == ["第一条", "第十四条", "第十七条", "第二十条之一", "第一百零二条"]
    by_label = {c.article_label: c for c in chunks}
    art14 = by_label["第十四条"]
    assert art14.article_no == 14
    assert art14.law == "测试失业保险条例"
    assert art14.chapter == "第三章 失业保险待遇"
    assert "非因本人意愿中断就业" in art14.text
    assert art14.effective == "2020-05-01"  # the 施行 line wins over the file name
    assert art14.region == "全国"
    assert by_label["第二十条之一"].article_no == 20
    assert by_label["第一百零二条"].article_no == 102
    assert art14.citation_label() == "《测试失业保险条例》第十四条"
    assert len({c.id for c in chunks}) == len(chunks)


def test_reference_inside_article_is_not_a_new_article(tmp_path: Path) -> None:
    doc = tmp_path / "a.md"
    doc.write_text(
        "# 某条例\n\n第一条 总则。\n\n第二条 内容。\n\n第三条 其他。\n\n第一条 规定的情形除外。\n",
        encoding="utf-8",
    )
    chunks = load_document(doc)
    assert [c.article_no for c in chunks] == [1, 2, 3]
    assert "规定的情形除外" in chunks[-1].text


def test_regions() -> None:
    assert region_from_title("广东省失业保险条例") == "广东"
    assert region_from_title("郑州市失业保险条例") == "郑州"
    assert region_from_title("上海市促进就业若干规定") == "上海"
    assert region_from_title("中华人民共和国劳动合同法") == "全国"
    assert region_from_title("人力资源市场暂行条例") == "全国"
    assert normalize_region("广东省") == "广东"
    assert normalize_region("") == "全国"


def test_non_law_document_chunks_by_heading(tmp_path: Path) -> None:
    doc = tmp_path / "服务指南.md"
    doc.write_text(
        "# 零工市场服务指南\n\n## 服务时间\n\n工作日早上7点开门。\n\n"
        "## 办理材料\n\n身份证。\n\n求职登记表。\n",
        encoding="utf-8",
    )
    chunks = load_document(doc)
    assert [c.article_label for c in chunks] == ["服务时间", "办理材料"]
    assert all(c.article_no is None for c in chunks)
    assert chunks[1].text == "身份证。\n求职登记表。"
    assert chunks[0].law == "零工市场服务指南"


def test_an_excerpt_of_a_law_is_still_cut_by_article(tmp_path: Path) -> None:
    """Two articles under a law's title cite as articles of that law; two numbered points
    under any other title stay one section."""
    excerpt = tmp_path / "劳动法节选.md"
    excerpt.write_text(
        "# 中华人民共和国劳动法（节选）\n\n第十六条 劳动合同是确立劳动关系的协议。\n\n"
        "第十九条 劳动合同应当以书面形式订立。\n",
        encoding="utf-8",
    )
    chunks = load_document(excerpt)
    assert [c.citation_label() for c in chunks] == ["《劳动法》第十六条", "《劳动法》第十九条"]
    notice = tmp_path / "须知.md"
    notice.write_text(
        "# 零工市场须知\n\n第一条 早上七点开门。\n\n第二条 带上身份证。\n", encoding="utf-8"
    )
    (section,) = load_document(notice)
    assert section.article_no is None and "带上身份证" in section.text


def test_txt_in_gb18030(tmp_path: Path) -> None:
    doc = tmp_path / "本地规定.txt"
    doc.write_bytes(
        "杭州市就业补贴办法\n第一条 目的。\n第二条 范围。\n第三条 标准。\n".encode("gb18030")
    )
    chunks = load_document(doc)
    assert [c.article_no for c in chunks] == [1, 2, 3]
    assert chunks[0].law == "杭州市就业补贴办法"
    assert chunks[0].region == "杭州"


def test_docx_ingestion(tmp_path: Path) -> None:
    docx = pytest.importorskip("docx")
    document = docx.Document()
    document.add_heading("宁波市灵活就业社保补贴办法", level=0)
    document.add_paragraph("2023年3月1日 施行")
    document.add_heading("第一章 总则", level=1)
    document.add_paragraph("第一条 为了支持灵活就业，制定本办法。")
    document.add_paragraph("第二条 本办法适用于本市。")
    document.add_heading("第二章 补贴标准", level=1)
    document.add_paragraph("第三条 补贴标准为缴费额的三分之二。")
    path = tmp_path / "办法.docx"
    document.save(str(path))
    chunks = load_document(path)
    assert [c.article_label for c in chunks] == ["第一条", "第二条", "第三条"]
    assert chunks[0].law == "宁波市灵活就业社保补贴办法"
    assert chunks[2].chapter == "第二章 补贴标准"
    assert chunks[0].region == "宁波"
    assert chunks[0].effective == "2023-03-01"


def test_pdf_ingestion(tmp_path: Path) -> None:
    pytest.importorskip("pypdf")
    canvas_mod = pytest.importorskip("reportlab.pdfgen.canvas")
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    path = tmp_path / "条例.pdf"
    c = canvas_mod.Canvas(str(path))
    c.setFont("STSong-Light", 12)
    lines = [
        "某某省就业促进条例",
        "第一章 总则",
        "第一条 为了促进就业，",
        "制定本条例。",
        "第二条 本条例适用于本省。",
        "第二章 扶持",
        "第一百零二条 本条例自公布之日起施行。",
    ]
    y = 800
    for line in lines:
        c.drawString(50, y, line)
        y -= 20
    c.save()
    chunks = load_document(path)
    assert [c.article_no for c in chunks] == [1, 2, 102]
    assert chunks[0].text == "为了促进就业，制定本条例。"  # wrapped lines joined
    assert chunks[2].chapter == "第二章 扶持"
    assert chunks[0].law == "某某省就业促进条例"


def test_unreadable_file_is_skipped(tmp_path: Path) -> None:
    bad = tmp_path / "broken.pdf"
    bad.write_bytes(b"not a pdf")
    assert load_document(bad) == []


@needs_laws
def test_real_statutes() -> None:
    chunks = load_folder(LAWS_DIR)
    art = next(c for c in chunks if c.short_law == "失业保险条例" and c.article_no == 14)
    assert art.article_label == "第十四条"
    assert art.chapter == "第三章 失业保险待遇"
    assert "失业登记" in art.text
    assert art.effective == "1999-01-22"
    contract = [c for c in chunks if c.short_law == "劳动合同法" and c.is_article]
    assert [c.article_no for c in contract] == list(range(1, 99))
    assert (
        next(c for c in contract if c.article_no == 58).chapter
        == "第五章 特别规定 · 第二节 劳务派遣"
    )
    labour = [c for c in chunks if c.short_law == "劳动法" and c.is_article]
    assert any(c.article_label == "第一百条" for c in labour)
    gd = [c for c in chunks if c.law == "广东省失业保险条例"]
    assert gd and all(c.region == "广东" for c in gd)
    assert all(c.text for c in chunks)

"""Operator documents (Markdown, TXT, DOCX, PDF) turned into citable chunks.

Laws and regulations are cut at each article (第X条) and keep their title and chapter,
so an answer can cite 《失业保险条例》第十四条; other documents are cut at headings and
paragraphs. The LawRefBook Markdown layout (``# title``, dates, ``<!-- INFO END -->``,
``## 第X章``, ``第X条 …``) is read as is.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

SUPPORTED_SUFFIXES = (".md", ".markdown", ".txt", ".docx", ".pdf")
NATIONAL = "全国"
_MAX_SECTION_CHARS = 600

# --- Chinese numerals -------------------------------------------------------------------

_DIGITS = {
    "零": 0,
    "〇": 0,
    "○": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
_UNITS = {"十": 10, "百": 100, "千": 1000, "万": 10000}
_NUM_CHARS = "零〇○一二两三四五六七八九十百千万0-9０-９"


def chinese_to_int(text: str) -> int:
    """Parse a Chinese (or Arabic) numeral: ``一百零二`` → 102, ``十四`` → 14, ``12`` → 12.

    Raises:
        ValueError: the text is not a numeral.
    """
    s = text.strip().translate(str.maketrans("０１２３４５６７８９", "0123456789"))
    if not s:
        raise ValueError("empty numeral")
    if s.isdigit():
        return int(s)
    total, section, digit = 0, 0, None
    for ch in s:
        if ch in _DIGITS:
            digit = _DIGITS[ch]
        elif ch in _UNITS:
            unit = _UNITS[ch]
            if unit == 10000:
                total += (section + (digit or 0)) * unit
                section = 0
            else:
                # A bare 十 at the start means 一十 (十四 = 14).
                section += (1 if digit is None else digit) * unit
            digit = None
        else:
            raise ValueError(f"not a Chinese numeral: {text!r}")
    return total + section + (digit or 0)


def int_to_chinese(n: int) -> str:
    """Write 1–9999 the way statutes number articles: 14 → 十四, 102 → 一百零二."""
    if n <= 0 or n >= 10000:
        raise ValueError(f"article number out of range: {n}")
    digits = "零一二三四五六七八九"
    parts: list[str] = []
    zero = False
    for value, unit in ((1000, "千"), (100, "百"), (10, "十"), (1, "")):
        d, n = divmod(n, value)
        if d:
            if zero:
                parts.append("零")
                zero = False
            parts.append(digits[d] + unit)
        elif parts:
            zero = True
        if n == 0:
            break
    out = "".join(parts)
    return out[1:] if out.startswith("一十") else out


# --- Chunks -----------------------------------------------------------------------------


@dataclass(frozen=True)
class DocumentChunk:
    """A citable piece of an operator document: one article of a law, or one section."""

    id: str
    law: str  # document title, e.g. 中华人民共和国劳动合同法
    article_no: int | None  # 14 for 第十四条; None for non-article sections
    article_label: str  # 第十四条, 第二十条之一, or the section heading
    chapter: str  # 第三章 失业保险待遇 (· 第一节 …), "" when none
    text: str
    source_path: str
    region: str = NATIONAL
    effective: str = ""  # YYYY-MM-DD, "" when unknown

    @property
    def is_article(self) -> bool:
        return self.article_no is not None

    @property
    def short_law(self) -> str:
        """The title without the 中华人民共和国 prefix, as people cite it."""
        return short_law_name(self.law)

    def citation_label(self) -> str:
        """``《失业保险条例》第十四条``."""
        return f"《{self.short_law}》{self.article_label if self.is_article else ''}"


_EXCERPT_NOTE_RE = re.compile(r"\s*[（(](?:节选|摘录|摘编|选编|部分条文)[）)]$")


def short_law_name(title: str) -> str:
    """Strip the state prefix, an excerpt note and brackets: 中华人民共和国劳动法（节选） → 劳动法."""
    t = title.strip().strip("《》")
    t = _EXCERPT_NOTE_RE.sub("", t).strip()
    t = t.replace("&lt;", "<").replace("&gt;", ">")
    t = re.sub(r"^中华人民共和国", "", t)
    t = re.sub(r"[<>〈〉《》]", "", t)
    t = t.replace("中华人民共和国", "")
    return t


# --- Parsing ----------------------------------------------------------------------------

_ARTICLE_RE = re.compile(
    rf"^\s*(?:\*\*)?第([{_NUM_CHARS}]+)条(之[一二三四五六七八九十]+)?(?:\*\*)?(?:[\s\u3000]+|$)(.*)$"
)
_ARTICLE_LOOSE_RE = re.compile(
    rf"^\s*(?:\*\*)?第([{_NUM_CHARS}]+)条(之[一二三四五六七八九十]+)?(?:\*\*)?[\s\u3000:：]*(.*)$"
)
_CHAPTER_RE = re.compile(rf"^\s*#*\s*(第[{_NUM_CHARS}]+章)[\s\u3000]*(.*?)\s*$")
_SECTION_RE = re.compile(rf"^\s*#*\s*(第[{_NUM_CHARS}]+节)[\s\u3000]*(.*?)\s*$")
_HEADING_RE = re.compile(r"^\s*(#{1,6})\s+(.*?)\s*#*\s*$")
_DATE_RE = re.compile(r"(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日")
_ISO_DATE_RE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
_INFO_END = "<!-- INFO END -->"
#: The title of a legal instrument, optionally followed by a note such as （节选）.
_LEGAL_TITLE_RE = re.compile(
    r"(?:法|条例|规定|办法|细则|解释|规则|决定)\s*(?:（[^）]*）|\([^)]*\))?$"
)

_PROVINCES = (
    "北京",
    "天津",
    "上海",
    "重庆",
    "河北",
    "山西",
    "辽宁",
    "吉林",
    "黑龙江",
    "江苏",
    "浙江",
    "安徽",
    "福建",
    "江西",
    "山东",
    "河南",
    "湖北",
    "湖南",
    "广东",
    "海南",
    "四川",
    "贵州",
    "云南",
    "陕西",
    "甘肃",
    "青海",
    "台湾",
    "内蒙古",
    "广西",
    "西藏",
    "宁夏",
    "新疆",
    "香港",
    "澳门",
)
_CITY_PREFIX_RE = re.compile(r"^([\u4e00-\u9fff]{2,4}?)(?:市|州|盟|地区)(?![场民政])")


def normalize_region(region: str) -> str:
    """``广东省`` → ``广东``, ``郑州市`` → ``郑州``, ``全国``/empty → ``全国``."""
    r = (region or "").strip()
    if not r or r in (NATIONAL, "national", "中国", "中华人民共和国"):
        return NATIONAL
    for suffix in ("维吾尔自治区", "壮族自治区", "回族自治区", "自治区", "特别行政区", "省", "市"):
        if r.endswith(suffix) and len(r) > len(suffix) + 1:
            return r[: -len(suffix)]
    return r


def region_from_title(title: str) -> str:
    """The place a local regulation applies to, read from its title; 全国 otherwise."""
    t = short_law_name(title)
    for prov in _PROVINCES:
        if t.startswith(prov):
            return prov
    m = _CITY_PREFIX_RE.match(t)
    if m and not t.startswith(("国务院", "最高")):
        return m.group(1)
    return NATIONAL


def _date_iso(y: str, m: str, d: str) -> str:
    return f"{int(y):04d}-{int(m):02d}-{int(d):02d}"


def _effective_from(header_lines: list[str], path: Path) -> str:
    """施行 date in the header; else the date in the file name; else the latest header date."""
    for line in header_lines:
        if "施行" in line:
            m = _DATE_RE.search(line)
            if m:
                return _date_iso(*m.groups())
    m = _ISO_DATE_RE.search(path.stem)
    if m:
        return _date_iso(*m.groups())
    dates = [_date_iso(*m.groups()) for line in header_lines for m in _DATE_RE.finditer(line)]
    return max(dates) if dates else ""


def _title_from_filename(path: Path) -> str:
    return re.sub(r"[（(]\d{4}-\d{2}-\d{2}[)）]$", "", path.stem).strip()


def _read_text_file(path: Path) -> str:
    raw = path.read_bytes()
    for enc in ("utf-8-sig", "gb18030"):
        try:
            return raw.decode(enc)
        except UnicodeDecodeError:
            continue
    return raw.decode("utf-8", errors="replace")


def _docx_lines(path: Path) -> list[str]:
    import docx  # python-docx; imported lazily, only operators with DOCX need it

    document = docx.Document(str(path))
    lines: list[str] = []
    for para in document.paragraphs:
        text = para.text.strip()
        if not text:
            lines.append("")
            continue
        style = (para.style.name or "").lower() if para.style is not None else ""
        if style == "title":
            lines.append(f"# {text}")
        elif style.startswith("heading"):
            level = int(style.split()[-1]) if style.split()[-1].isdigit() else 2
            lines.append(f"{'#' * min(level + 1, 6)} {text}")
        else:
            lines.append(text)
        lines.append("")
    return lines


_SENTENCE_END = tuple("。；：！？!?;:")


def _pdf_lines(path: Path) -> list[str]:
    """PDF text, with lines that the layout wrapped joined back into paragraphs."""
    from pypdf import PdfReader

    reader = PdfReader(str(path))
    raw_lines: list[str] = []
    for page in reader.pages:
        raw_lines.extend((page.extract_text() or "").splitlines())
    lines: list[str] = []
    buf = ""
    for raw in raw_lines:
        line = raw.strip()
        if not line:
            continue
        starts_block = bool(
            _ARTICLE_LOOSE_RE.match(line) or _CHAPTER_RE.match(line) or _SECTION_RE.match(line)
        )
        if buf and (starts_block or buf.endswith(_SENTENCE_END)):
            lines.extend([buf, ""])
            buf = ""
        buf += line
        if starts_block and (_CHAPTER_RE.match(line) or _SECTION_RE.match(line)):
            lines.extend([buf, ""])
            buf = ""
    if buf:
        lines.append(buf)
    return lines


def read_document_lines(path: Path) -> list[str]:
    """The document as text lines (Markdown headings kept; DOCX headings turned into ``#``)."""
    suffix = path.suffix.lower()
    if suffix == ".docx":
        return _docx_lines(path)
    if suffix == ".pdf":
        return _pdf_lines(path)
    return _read_text_file(path).splitlines()


def _clean_paragraphs(lines: Iterable[str]) -> str:
    paras = [ln.strip() for ln in lines]
    text = "\n".join(p for p in paras if p)
    return text.strip()


def _parse_article_heading(line: str, loose: bool) -> tuple[int, str, str] | None:
    m = (_ARTICLE_LOOSE_RE if loose else _ARTICLE_RE).match(line)
    if not m:
        return None
    try:
        number = chinese_to_int(m.group(1))
    except ValueError:
        return None
    suffix = m.group(2) or ""
    label = f"第{int_to_chinese(number) if number < 10000 else number}条{suffix}"
    return number, label, m.group(3).strip()


def chunk_lines(lines: list[str], path: Path, title_hint: str = "") -> list[DocumentChunk]:
    """Cut one document's lines into chunks (articles for laws, sections otherwise)."""
    # Header: everything before <!-- INFO END --> (LawRefBook); else up to the first article.
    title = ""
    header: list[str] = []
    body_start = 0
    if any(_INFO_END in ln for ln in lines):
        idx = next(i for i, ln in enumerate(lines) if _INFO_END in ln)
        header = lines[:idx]
        body_start = idx + 1
    for ln in header or lines[:10]:
        h = _HEADING_RE.match(ln)
        if h and len(h.group(1)) == 1:
            title = h.group(2).strip()
            break
    if not title:
        first = next((ln.strip() for ln in lines if ln.strip()), "")
        first = first.lstrip("#").strip()
        if (
            first
            and len(first) <= 60
            and not _ARTICLE_LOOSE_RE.match(first)
            and not _CHAPTER_RE.match(first)
            and not first.endswith(_SENTENCE_END)
        ):
            title = first
    title = title or title_hint or _title_from_filename(path)
    body = lines[body_start:]
    if not header:
        # Without the marker, the header is the lines before the first article or chapter.
        for i, ln in enumerate(body):
            if _ARTICLE_LOOSE_RE.match(ln) or _CHAPTER_RE.match(ln):
                header, body = body[:i], body[i:]
                break
    region = region_from_title(title)
    effective = _effective_from(header, path)

    strict_hits = sum(1 for ln in body if _ARTICLE_RE.match(ln))
    loose = strict_hits < 3 and sum(1 for ln in body if _ARTICLE_LOOSE_RE.match(ln)) >= 3
    # Three article lines make a law; an excerpt of one or two articles is one when its
    # title names a legal instrument (《劳动法》（节选）), so its answers still cite articles.
    excerpt = 0 < strict_hits < 3 and bool(_LEGAL_TITLE_RE.search(title))
    is_law = strict_hits >= 3 or loose or excerpt
    stem = path.stem
    if is_law:
        return _chunk_law(body, title, region, effective, path, stem, loose)
    return _chunk_sections(body, title, region, effective, path, stem)


def _chunk_law(
    body: list[str], title: str, region: str, effective: str, path: Path, stem: str, loose: bool
) -> list[DocumentChunk]:
    chunks: list[DocumentChunk] = []
    chapter, section = "", ""
    current: tuple[int, str] | None = None
    buf: list[str] = []
    preamble: list[str] = []
    last_no = 0
    seen_ids: set[str] = set()

    def flush() -> None:
        if current is None:
            return
        text = _clean_paragraphs(buf)
        if not text:
            return
        number, label = current
        cid = f"{stem}#{label}"
        if cid in seen_ids:  # the same number twice (a typo in the source): keep both
            cid = f"{cid}~{len(chunks)}"
        seen_ids.add(cid)
        chap = f"{chapter} · {section}" if chapter and section else (chapter or section)
        chunks.append(
            DocumentChunk(
                id=cid,
                law=title,
                article_no=number,
                article_label=label,
                chapter=chap,
                text=text,
                source_path=str(path),
                region=region,
                effective=effective,
            )
        )

    for line in body:
        stripped = line.strip()
        if not stripped or stripped.startswith("<!--"):
            continue
        m_ch = _CHAPTER_RE.match(stripped)
        if m_ch and len(stripped) <= 40:
            flush()
            current, buf = None, []
            chapter = f"{m_ch.group(1)} {m_ch.group(2)}".strip()
            chapter = re.sub(r"\s+", " ", chapter)
            section = ""
            continue
        m_sec = _SECTION_RE.match(stripped)
        if m_sec and len(stripped) <= 40:
            flush()
            current, buf = None, []
            section = re.sub(r"\s+", " ", f"{m_sec.group(1)} {m_sec.group(2)}".strip())
            continue
        art = _parse_article_heading(stripped, loose)
        # A paragraph that merely starts with a reference (第三十九条规定的…) is not a new
        # article: real headings count upwards.
        if art is not None and (art[0] > last_no or (art[0] == last_no and "之" in art[1])):
            flush()
            number, label, rest = art
            current, buf = (number, label), ([rest] if rest else [])
            last_no = number
            continue
        if _HEADING_RE.match(stripped):
            continue  # other headings (附则 without 第X章, etc.) carry no text
        if current is None:
            preamble.append(stripped)
        else:
            buf.append(stripped)
    flush()
    pre = _clean_paragraphs(preamble)
    if pre:
        chunks.insert(
            0,
            DocumentChunk(
                id=f"{stem}#序言",
                law=title,
                article_no=None,
                article_label="序言",
                chapter="",
                text=pre,
                source_path=str(path),
                region=region,
                effective=effective,
            ),
        )
    return chunks


def _chunk_sections(
    body: list[str], title: str, region: str, effective: str, path: Path, stem: str
) -> list[DocumentChunk]:
    chunks: list[DocumentChunk] = []
    heading = ""
    paras: list[str] = []

    def emit(parts: list[str]) -> None:
        text = "\n".join(parts).strip()
        if text:
            chunks.append(
                DocumentChunk(
                    id=f"{stem}#s{len(chunks) + 1}",
                    law=title,
                    article_no=None,
                    article_label=heading,
                    chapter=heading,
                    text=text,
                    source_path=str(path),
                    region=region,
                    effective=effective,
                )
            )

    def flush() -> None:
        # Keep sections citable but short enough to embed: split long ones at paragraphs.
        group: list[str] = []
        size = 0
        for p in paras:
            if group and size + len(p) > _MAX_SECTION_CHARS:
                emit(group)
                group, size = [], 0
            group.append(p)
            size += len(p)
        emit(group)

    for line in body:
        stripped = line.strip()
        if not stripped or stripped.startswith("<!--"):
            continue
        h = _HEADING_RE.match(stripped)
        if h:
            if h.group(2).strip() == title:
                continue
            flush()
            heading, paras = h.group(2).strip(), []
            continue
        paras.append(stripped)
    flush()
    return chunks


def load_document(path: Path | str) -> list[DocumentChunk]:
    """Chunk one file; an unreadable file logs a warning and yields nothing."""
    p = Path(path)
    try:
        lines = read_document_lines(p)
    except Exception as exc:  # a broken operator file must not stop the whole build
        log.warning("skipping unreadable document %s: %s", p, exc)
        return []
    return chunk_lines(lines, p)


def iter_document_files(folder: Path | str) -> Iterator[Path]:
    """Supported files under ``folder`` (recursively), in a stable order."""
    root = Path(folder)
    for p in sorted(root.rglob("*")):
        if (
            p.is_file()
            and p.suffix.lower() in SUPPORTED_SUFFIXES
            and not p.name.startswith((".", "~$"))
            and p.name.lower() != "readme.md"
        ):
            yield p


def load_folder(folder: Path | str) -> list[DocumentChunk]:
    """Chunk every supported document under ``folder``.

    Raises:
        FileNotFoundError: the folder does not exist.
    """
    root = Path(folder)
    if not root.is_dir():
        raise FileNotFoundError(f"documents folder not found: {root}")
    chunks: list[DocumentChunk] = []
    for path in iter_document_files(root):
        chunks.extend(load_document(path))
    return chunks

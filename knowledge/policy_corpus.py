"""The project's own policy corpus (``knowledge/policies/*.yml``): loading and validation.

Each YAML file holds ``entries:``; every entry states one rule in the project's own
words with its audience, groups, region, source (document and article) and date.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

log = logging.getLogger(__name__)

CORPUS_DIR = Path(__file__).resolve().parent / "policies"
NATIONAL = "全国"
AUDIENCES = frozenset({"worker", "employer", "both"})
_REQUIRED = ("id", "title", "audience", "region", "effective", "answer")


class CorpusError(ValueError):
    """The corpus cannot be loaded: a file is malformed or an entry breaks the schema."""


@dataclass(frozen=True)
class Citation:
    """Where a rule comes from: a document (law, regulation, policy) and optionally an article."""

    document: str
    article: str = ""

    def label(self) -> str:
        """``《失业保险条例》第十七条`` (the article is omitted when unknown)."""
        doc = self.document.strip()
        if not doc.startswith("《"):
            doc = f"《{doc}》"
        return f"{doc}{self.article.strip()}"


@dataclass(frozen=True)
class PolicyEntry:
    """One rule of the corpus, written by the project."""

    id: str
    title: str
    audience: str
    region: str
    effective: str  # ISO date, YYYY-MM-DD
    answer: str
    short: str
    citations: tuple[Citation, ...]
    groups: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()
    related: tuple[str, ...] = ()
    local_amounts_vary: bool = False
    source_file: str = field(default="", compare=False)

    @property
    def is_national(self) -> bool:
        return self.region in ("", NATIONAL)


def _as_date(value: Any, where: str) -> str:
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip()).isoformat()
        except ValueError as exc:
            raise CorpusError(f"{where}: effective must be YYYY-MM-DD, got {value!r}") from exc
    raise CorpusError(f"{where}: effective must be YYYY-MM-DD, got {value!r}")


def _str_tuple(value: Any, where: str, name: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value.strip(),) if value.strip() else ()
    if not isinstance(value, list):
        raise CorpusError(f"{where}: {name} must be a list of strings")
    return tuple(str(v).strip() for v in value if v is not None and str(v).strip())


def _citations(raw: dict[str, Any], where: str) -> tuple[Citation, ...]:
    items: list[Any] = []
    if raw.get("source") is not None:
        items.append(raw["source"])
    if raw.get("sources") is not None:
        if not isinstance(raw["sources"], list):
            raise CorpusError(f"{where}: sources must be a list")
        items.extend(raw["sources"])
    out: list[Citation] = []
    for item in items:
        if isinstance(item, str):
            out.append(Citation(document=item.strip()))
        elif isinstance(item, dict) and item.get("document"):
            out.append(
                Citation(
                    document=str(item["document"]).strip(),
                    article=str(item.get("article") or "").strip(),
                )
            )
        else:
            raise CorpusError(f"{where}: each source needs a 'document'")
    if not out:
        raise CorpusError(f"{where}: an entry needs a source (document and article)")
    return tuple(out)


def parse_entry(raw: Any, source_file: str = "") -> PolicyEntry:
    """Validate one raw YAML mapping and turn it into a :class:`PolicyEntry`."""
    where = f"{source_file or '<corpus>'}"
    if not isinstance(raw, dict):
        raise CorpusError(f"{where}: each entry must be a mapping")
    where = f"{where} [{raw.get('id', '?')}]"
    missing = [k for k in _REQUIRED if raw.get(k) in (None, "")]
    if missing:
        raise CorpusError(f"{where}: missing {', '.join(missing)}")
    audience = str(raw["audience"]).strip()
    if audience not in AUDIENCES:
        raise CorpusError(f"{where}: audience must be one of {sorted(AUDIENCES)}, got {audience!r}")
    answer = str(raw["answer"]).strip()
    short = str(raw.get("short") or "").strip() or answer
    return PolicyEntry(
        id=str(raw["id"]).strip(),
        title=str(raw["title"]).strip(),
        audience=audience,
        region=str(raw["region"]).strip() or NATIONAL,
        effective=_as_date(raw["effective"], where),
        answer=answer,
        short=short,
        citations=_citations(raw, where),
        groups=_str_tuple(raw.get("groups"), where, "groups"),
        aliases=_str_tuple(raw.get("aliases"), where, "aliases"),
        related=_str_tuple(raw.get("related"), where, "related"),
        local_amounts_vary=bool(raw.get("local_amounts_vary", False)),
        source_file=source_file,
    )


def corpus_files(folder: Path | str = CORPUS_DIR) -> list[Path]:
    """The corpus YAML files in a stable order."""
    root = Path(folder)
    if not root.is_dir():
        return []
    return sorted(p for p in root.rglob("*") if p.suffix in (".yml", ".yaml") and p.is_file())


def load_corpus(folder: Path | str = CORPUS_DIR) -> tuple[PolicyEntry, ...]:
    """Load and validate every entry under ``folder``.

    Raises:
        CorpusError: a file is not valid YAML, an entry breaks the schema, or an id repeats.
    """
    entries: list[PolicyEntry] = []
    seen: dict[str, str] = {}
    for path in corpus_files(folder):
        try:
            doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as exc:
            raise CorpusError(f"{path.name}: invalid YAML: {exc}") from exc
        raw_entries = doc.get("entries", []) if isinstance(doc, dict) else None
        if not isinstance(raw_entries, list):
            raise CorpusError(f"{path.name}: expected a top-level 'entries:' list")
        for raw in raw_entries:
            entry = parse_entry(raw, path.name)
            if entry.id in seen:
                raise CorpusError(
                    f"{path.name}: duplicate id {entry.id!r} (also in {seen[entry.id]})"
                )
            seen[entry.id] = path.name
            entries.append(entry)
    return tuple(entries)


def corpus_problems(entries: Sequence[PolicyEntry]) -> list[str]:
    """Soft checks the loader tolerates but authors should fix.

    Dangling related ids, no alias questions, and a source cited twice in one entry.
    """
    ids = {e.id for e in entries}
    problems: list[str] = []
    for e in entries:
        problems.extend(
            f"{e.id}: related id {r!r} does not exist" for r in e.related if r not in ids
        )
        if not e.aliases:
            problems.append(f"{e.id}: no alias questions")
        if len(set(e.citations)) < len(e.citations):
            problems.append(f"{e.id}: a source is cited twice")
    return problems


def corpus_hash(entries: Iterable[PolicyEntry]) -> str:
    """A stable digest of everything in the corpus that ends up in the index."""
    h = hashlib.sha256()
    for e in sorted(entries, key=lambda x: x.id):
        h.update(
            repr(
                (
                    e.id,
                    e.title,
                    e.audience,
                    e.region,
                    e.effective,
                    e.answer,
                    e.short,
                    e.citations,
                    e.groups,
                    e.aliases,
                    e.related,
                    e.local_amounts_vary,
                )
            ).encode("utf-8")
        )
    return h.hexdigest()

"""Import job feeds (CSV or JSON) through a declarative field mapping (YAML in ``mappings/``).

Each row becomes a Job or a rejection with a reason; the accepted rows are upserted on
(source, external id), so importing the same feed twice never duplicates a posting.
"""

from __future__ import annotations

import csv
import hashlib
import json
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

from knowledge.jobs.gazetteer import UnknownPlace, get_gazetteer
from knowledge.jobs.models import Job, Place, Salary
from knowledge.jobs.parsing import SalaryParseError, chinese_number, normalise_phone, parse_salary
from knowledge.jobs.store import FieldTooLong, JobStore, UpsertStats, check_job

MAPPINGS_DIR = Path(__file__).resolve().parent / "mappings"
MAX_TEXT = 5000  # characters kept of a free-text field without its own max_length
_CONTROL = re.compile(
    r"[\x00-\x08\x0b\x0c\x0e-\x1f]"
)  # NUL and friends: PostgreSQL text refuses NUL

JOB_FIELDS = (
    "title",
    "company",
    "place",
    "salary",
    "tags",
    "benefits",
    "job_type",
    "employment_type",
    "description",
    "requirements",
    "contact_phone",
    "headcount",
    "posted_at",
    "expires_at",
)


class RowRejected(ValueError):
    """A feed row that cannot become a posting; ``code`` groups the reasons in reports."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class FieldSpec:
    column: str | None = None
    parser: str = "text"
    required: bool = False
    default: Any = None
    value: Any = None
    template: str | None = None
    max_length: int | None = None
    separator: str = ","
    exclude_columns: tuple[str, ...] = ()
    fallback_column: str | None = None
    without_benefits: bool = False  # list parser: leave benefit words to the benefits field


@dataclass(frozen=True)
class Mapping:
    """A feed format: where each Job field comes from and how it is parsed."""

    name: str
    source: str
    format: str = "csv"
    fields: dict[str, FieldSpec] = field(default_factory=dict)
    id_column: str | None = None
    key_columns: tuple[str, ...] = ()
    records: str | None = None  # JSON: dotted path to the list of records
    valid_days: int | None = None
    encoding: str = "utf-8-sig"

    @classmethod
    def load(cls, name_or_path: str | Path) -> Mapping:
        path = Path(name_or_path)
        if not path.suffix:
            path = MAPPINGS_DIR / f"{name_or_path}.yml"
        if not path.is_file():
            known = ", ".join(sorted(p.stem for p in MAPPINGS_DIR.glob("*.yml")))
            raise FileNotFoundError(f"mapping {name_or_path!r} not found (known: {known})")
        spec = yaml.safe_load(path.read_text(encoding="utf-8"))
        unknown = set(spec.get("fields", {})) - set(JOB_FIELDS)
        if unknown:
            raise ValueError(f"mapping {path.name}: unknown target fields {sorted(unknown)}")
        fields = {
            name: FieldSpec(**{**f, "exclude_columns": tuple(f.get("exclude_columns", ()))})
            for name, f in spec.get("fields", {}).items()
        }
        if not spec.get("id_column") and not spec.get("key_columns"):
            raise ValueError(
                f"mapping {path.name}: needs id_column or key_columns for de-duplication"
            )
        return cls(
            name=spec["name"],
            source=spec.get("source", spec["name"]),
            format=spec.get("format", "csv"),
            fields=fields,
            id_column=spec.get("id_column"),
            key_columns=tuple(spec.get("key_columns", ())),
            records=spec.get("records"),
            valid_days=spec.get("valid_days"),
            encoding=spec.get("encoding", "utf-8-sig"),
        )

    # -- reading ------------------------------------------------------------------------
    def read(self, path: Path) -> Iterator[dict[str, Any]]:
        if self.format == "csv":
            with path.open(encoding=self.encoding, newline="") as handle:
                yield from csv.DictReader(handle)
        elif self.format in ("json", "jsonl"):
            text = path.read_text(encoding=self.encoding)
            if self.format == "jsonl":
                for line in text.splitlines():
                    if line.strip():
                        yield json.loads(line)
                return
            data: Any = json.loads(text)
            if isinstance(data, dict) and self.records:
                for part in self.records.split("."):
                    data = data.get(part, []) if isinstance(data, dict) else []
            if not isinstance(data, list):
                raise ValueError(
                    f"{path}: expected a list of records at {self.records or 'top level'}"
                )
            yield from data
        else:
            raise ValueError(f"unsupported feed format {self.format!r}")

    # -- mapping ------------------------------------------------------------------------
    def to_job(self, record: dict[str, Any]) -> tuple[Job, list[str]]:
        """Map one record; returns the Job and warnings. Raises RowRejected."""
        if not isinstance(record, dict):
            raise RowRejected("format", "记录不是对象")
        warnings: list[str] = []
        values: dict[str, Any] = {}
        for name, spec in self.fields.items():
            values[name] = self._field(name, spec, record, warnings)
        place: Place = values.pop("place")
        salary: Salary | None = values.pop("salary", None)
        posted = values.get("posted_at")
        expires = values.get("expires_at")
        if expires is None and self.valid_days and posted:
            expires = posted + timedelta(days=int(self.valid_days))
        job = Job(
            title=values["title"],
            company=values["company"],
            city=place.city,
            province=place.province,
            district=place.district,
            job_type=values.get("job_type") or "其他",
            employment_type=values.get("employment_type") or "全职",
            salary=salary,
            benefits=tuple(values.get("benefits") or ()),
            tags=tuple(values.get("tags") or ()),
            description=values.get("description") or "",
            requirements=values.get("requirements") or "",
            contact_phone=values.get("contact_phone") or "",
            headcount=values.get("headcount"),
            posted_at=posted,
            expires_at=expires,
            source=self.source,
            external_id=self._external_id(record),
        )
        return job, warnings

    def _external_id(self, record: dict[str, Any]) -> str:
        if self.id_column:
            value = _get(record, self.id_column)
            if value in (None, ""):
                raise RowRejected("missing", f"缺少编号（{self.id_column}）")
            return _clean(value)[:128]
        key = "\x1f".join(_clean(_get(record, c)) for c in self.key_columns)
        return hashlib.sha1(key.encode("utf-8")).hexdigest()

    def _field(
        self, name: str, spec: FieldSpec, record: dict[str, Any], warnings: list[str]
    ) -> Any:
        if spec.value is not None:
            return spec.value
        if spec.template is not None:
            return spec.template.format_map(_Defaulting({k: _clean(v) for k, v in record.items()}))
        raw = _get(record, spec.column) if spec.column else None
        if (raw is None or _clean(raw) == "") and spec.fallback_column:
            raw = _get(record, spec.fallback_column)
        if raw is None or (isinstance(raw, str) and _clean(raw) == ""):
            if spec.required and spec.default is None:
                raise RowRejected("missing", f"缺少{_LABELS.get(name, name)}（{spec.column}）")
            if name == "salary":
                return None
            return spec.default
        parser = _PARSERS.get(spec.parser)
        if parser is None:
            raise ValueError(f"mapping {self.name}: unknown parser {spec.parser!r}")
        value = parser(raw, spec, record)
        if value is None and spec.default is not None:
            value = spec.default
        if isinstance(value, str):
            limit = spec.max_length or MAX_TEXT
            if len(value) > limit:
                warnings.append(
                    f"{_LABELS.get(name, name)}过长（{len(value)}字），已截断为{limit}字"
                )
                value = value[:limit]
        if value is None and spec.required:
            raise RowRejected("missing", f"缺少{_LABELS.get(name, name)}")
        return value


_LABELS = {
    "title": "职位名称",
    "company": "公司名称",
    "place": "工作地点",
    "salary": "薪资",
    "job_type": "工种",
    "description": "职位描述",
    "requirements": "任职要求",
    "contact_phone": "联系电话",
    "headcount": "招聘人数",
    "posted_at": "发布日期",
    "expires_at": "截止日期",
    "tags": "标签",
    "benefits": "福利",
}


class _Defaulting(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return ""


def _get(record: dict[str, Any], column: str | None) -> Any:
    value: Any = record
    for part in (column or "").split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def _clean(value: Any) -> str:
    return _CONTROL.sub("", str(value)).strip() if value is not None else ""


def _text(raw: Any, spec: FieldSpec, record: dict[str, Any]) -> str:
    return _clean(raw)


def _place(raw: Any, spec: FieldSpec, record: dict[str, Any]) -> Place:
    gazetteer = get_gazetteer()
    try:
        if isinstance(raw, dict):
            city = gazetteer.normalize_city(raw.get("city"))
            if not city:
                raise UnknownPlace(str(raw.get("city")))
            district = gazetteer.normalize_district(city, raw.get("district")) or (
                _clean(raw.get("district")) or None
            )
            return Place(gazetteer.province_of[city], city, district)
        return gazetteer.parse_area(_clean(raw))
    except UnknownPlace:
        raise RowRejected("city", f"未知城市：{_clean(raw)[:40]}") from None


def _salary(raw: Any, spec: FieldSpec, record: dict[str, Any]) -> Salary | None:
    try:
        return parse_salary(_clean(raw))
    except SalaryParseError as exc:
        raise RowRejected("salary", str(exc)) from None


MAX_TAG = 100
MAX_TAGS = 30


def _list(raw: Any, spec: FieldSpec, record: dict[str, Any]) -> tuple[str, ...]:
    items = raw if isinstance(raw, list) else _clean(raw).split(spec.separator)
    exclude = {_clean(record.get(c)) for c in spec.exclude_columns}
    benefits = _benefit_words()
    seen: dict[str, None] = {}
    for item in items:
        text = _clean(item)
        if text and text not in exclude and not (spec.without_benefits and text in benefits):
            if len(text) > MAX_TAG:
                raise RowRejected("too_long", f"标签过长（{len(text)}字，最多{MAX_TAG}字）")
            seen.setdefault(text, None)
    if len(seen) > MAX_TAGS:
        raise RowRejected("too_long", f"标签过多（{len(seen)}个，最多{MAX_TAGS}个）")
    return tuple(seen)


def _benefits(raw: Any, spec: FieldSpec, record: dict[str, Any]) -> tuple[str, ...]:
    items = raw if isinstance(raw, list) else _clean(raw).split(spec.separator)
    known = _benefit_words()
    return tuple(dict.fromkeys(_clean(i) for i in items if _clean(i) in known))


def _benefit_words() -> frozenset[str]:
    return get_gazetteer().benefits


def _job_type(raw: Any, spec: FieldSpec, record: dict[str, Any]) -> str | None:
    gazetteer = get_gazetteer()
    text = _clean(raw)
    return (
        gazetteer.normalize_job_type(text)
        if text in gazetteer.job_type_alias
        else gazetteer.classify_title(text)
    )


def _employment_type(raw: Any, spec: FieldSpec, record: dict[str, Any]) -> str | None:
    return get_gazetteer().normalize_employment_type(_clean(raw))


def _date(raw: Any, spec: FieldSpec, record: dict[str, Any]) -> date:
    text = _clean(raw).replace("/", "-").replace(".", "-")
    for fmt in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d", "%Y-%m-%dT%H:%M:%S"):
        try:
            return datetime.strptime(text[:19], fmt).date()
        except ValueError:
            continue
    raise RowRejected("date", f"无法识别的日期：{text[:30]}")


def _int(raw: Any, spec: FieldSpec, record: dict[str, Any]) -> int:
    text = _clean(raw).rstrip("人名个位")
    if text.isdigit():
        return int(text)
    value = chinese_number(text)
    if value is None:
        raise RowRejected("number", f"无法识别的数字：{text[:20]}")
    return int(value)


def _phone(raw: Any, spec: FieldSpec, record: dict[str, Any]) -> str:
    phone = normalise_phone(_clean(raw))
    if phone is None:
        raise RowRejected("phone", "联系电话格式不对")
    return phone


_PARSERS = {
    "text": _text,
    "area": _place,
    "place": _place,
    "salary": _salary,
    "list": _list,
    "benefits": _benefits,
    "job_type": _job_type,
    "employment_type": _employment_type,
    "date": _date,
    "int": _int,
    "phone": _phone,
}


@dataclass(frozen=True)
class ImportReport:
    """What an import did: counts, and each rejected row with its reason."""

    source: str
    read: int
    accepted: int
    stats: UpsertStats
    rejected: tuple[tuple[int, str, str], ...]  # (row number, code, message)
    warnings: tuple[tuple[int, str], ...]

    @property
    def reasons(self) -> Counter[str]:
        return Counter(code for _, code, _ in self.rejected)

    def summary(self) -> str:
        lines = [
            f"来源 {self.source}: 读取 {self.read} 行，接受 {self.accepted} 行"
            f"（新增 {self.stats.inserted}，更新 {self.stats.updated}，未变 {self.stats.unchanged}），"
            f"拒绝 {len(self.rejected)} 行"
        ]
        for code, count in self.reasons.most_common():
            examples = [m for _, c, m in self.rejected if c == code][:3]
            lines.append(f"  拒绝原因 {code}: {count} 行，例如：{'；'.join(examples)}")
        if self.warnings:
            lines.append(f"  警告 {len(self.warnings)} 条，例如：{self.warnings[0][1]}")
        return "\n".join(lines)


def import_file(path: str | Path, mapping: Mapping | str, store: JobStore) -> ImportReport:
    """Import a feed file into ``store`` with ``mapping``; bad rows are reported, not fatal."""
    if isinstance(mapping, str):
        mapping = Mapping.load(mapping)
    jobs: list[Job] = []
    rejected: list[tuple[int, str, str]] = []
    warnings: list[tuple[int, str]] = []
    first_row: dict[str, int] = {}
    read = 0
    for number, record in enumerate(mapping.read(Path(path)), start=1):
        read += 1
        try:
            job, row_warnings = mapping.to_job(record)
            check_job(job)
        except FieldTooLong as exc:
            rejected.append((number, "too_long", str(exc)))
            continue
        except RowRejected as exc:
            rejected.append((number, exc.code, exc.message))
            continue
        if job.external_id in first_row:
            rejected.append((number, "duplicate", f"与第{first_row[job.external_id]}行重复"))
            continue
        first_row[job.external_id] = number
        warnings.extend((number, w) for w in row_warnings)
        jobs.append(job)
    stats = store.upsert_many(jobs)
    return ImportReport(mapping.source, read, len(jobs), stats, tuple(rejected), tuple(warnings))

"""Typed values that cross the job store's boundary: postings, salaries, places, search results."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

# Monthly equivalents: China's statutory average of 21.75 paid working days a month
# (人社部发〔2008〕3号) and 8-hour days.
WORK_DAYS_PER_MONTH = 21.75
WORK_HOURS_PER_MONTH = WORK_DAYS_PER_MONTH * 8

SALARY_UNITS = ("month", "day", "hour", "year")
UNIT_LABELS = {"month": "元/月", "day": "元/天", "hour": "元/小时", "year": "元/年"}


@dataclass(frozen=True)
class Salary:
    """A pay range in its own unit (month, day, hour or year), in yuan."""

    low: float
    high: float
    unit: str = "month"
    months: int = 12  # "·13薪": paid months per year, shown but not folded into the monthly figure

    def monthly(self) -> tuple[float, float]:
        """The range converted to yuan per month."""
        factor = {
            "month": 1.0,
            "day": WORK_DAYS_PER_MONTH,
            "hour": WORK_HOURS_PER_MONTH,
            "year": 1 / 12,
        }[self.unit]
        return round(self.low * factor, 2), round(self.high * factor, 2)

    def text(self) -> str:
        """Compact Chinese display form: 4500-6000元/月, 200元/天."""
        low, high = _fmt(self.low), _fmt(self.high)
        span = low if low == high else f"{low}-{high}"
        extra = f"·{self.months}薪" if self.months > 12 else ""
        return f"{span}{UNIT_LABELS[self.unit]}{extra}"


def _fmt(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


@dataclass(frozen=True)
class Place:
    """A place resolved against the gazetteer."""

    province: str
    city: str
    district: str | None = None
    locality: str | None = None  # what remained after the district (a street, a park)


@dataclass(frozen=True)
class Job:
    """One job posting as stored. ``id`` is None until the store assigns one."""

    title: str
    company: str
    city: str
    job_type: str
    employment_type: str = "全职"
    province: str = ""
    district: str | None = None
    salary: Salary | None = None  # None: 面议
    benefits: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    description: str = ""
    requirements: str = ""
    contact_phone: str = ""
    headcount: int | None = None
    posted_at: date | None = None
    expires_at: date | None = None  # None: no stated expiry
    source: str = "manual"
    external_id: str = ""
    id: int | None = None

    @property
    def salary_text(self) -> str:
        return self.salary.text() if self.salary else "面议"

    def embedding_text(self) -> str:
        """The text the semantic ranking embeds: title, tags, benefits and description."""
        parts = [self.title]
        if self.tags:
            parts.append("，".join(self.tags))
        if self.benefits:
            parts.append("，".join(self.benefits))
        if self.description:
            parts.append(self.description[:300])
        return "；".join(parts)


@dataclass(frozen=True)
class JobQuery:
    """What a worker asks for. Empty fields do not filter."""

    city: str | None = None
    district: str | None = None
    job_types: tuple[str, ...] = ()
    min_monthly_salary: float | None = None
    employment_type: str | None = None
    text: str = ""  # free text for semantic ranking


@dataclass(frozen=True)
class SearchResult:
    """One page of results, with what had to be relaxed to find anything."""

    jobs: tuple[Job, ...]
    total: int
    page: int
    page_size: int
    relaxed: tuple[str, ...] = ()
    query: JobQuery = field(default_factory=JobQuery)

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))

    @property
    def has_more(self) -> bool:
        return self.page * self.page_size < self.total

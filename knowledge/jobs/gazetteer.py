"""Place and job-type vocabularies: normalise what people and feeds say to canonical names."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from knowledge.jobs.models import Place

DATA_DIR = Path(__file__).resolve().parent / "data"
_DISTRICT_SUFFIXES = ("新区", "区", "县", "市", "旗")
_GENERIC_DISTRICT = re.compile(r"^(.{1,10}?(?:新区|开发区|园区|区|县|市|旗))")
_PROVINCE_PREFIX = re.compile(r"^[\u4e00-\u9fff]{1,4}?省")


class UnknownPlace(ValueError):
    """Raised when a place cannot be resolved to a known city."""


@dataclass(frozen=True)
class Gazetteer:
    """Cities, districts and job types with their aliases, loaded from ``data/*.yml``."""

    province_of: dict[str, str]
    city_alias: dict[str, str]  # alias or canonical -> canonical city
    province_alias: dict[str, str]  # 浙江省 / 浙江 -> 浙江
    county_cities: dict[str, tuple[str, str]]
    districts: dict[str, tuple[str, ...]]
    district_alias: dict[str, dict[str, str]]  # city -> alias -> canonical district
    district_city: dict[str, str]  # district alias -> city, only where unambiguous
    job_types: tuple[str, ...]
    job_type_alias: dict[str, str]
    job_keywords: tuple[tuple[str, str], ...]  # (keyword, type) in priority order
    related: dict[str, tuple[str, ...]]
    employment_alias: dict[str, str]
    benefits: frozenset[str]

    # -- places -----------------------------------------------------------------------
    @property
    def cities(self) -> frozenset[str]:
        return frozenset(self.province_of)

    def normalize_city(self, text: str | None) -> str | None:
        """杭州市 / 杭州 → 杭州; county-level cities map to their prefecture (昆山 → 苏州)."""
        if not text:
            return None
        name = _clean(text)
        if name in self.city_alias:
            return self.city_alias[name]
        stripped = name[:-1] if name.endswith("市") else name
        if stripped in self.city_alias:
            return self.city_alias[stripped]
        if stripped in self.county_cities:
            return self.county_cities[stripped][0]
        return None

    def normalize_district(self, city: str | None, text: str | None) -> str | None:
        """余杭 / 余杭区 → 余杭区 within ``city``; without a city, only if unambiguous."""
        if not text:
            return None
        name = _clean(text)
        if city is None:
            city = self.district_city.get(name)
            if city is None:
                return None
        aliases = self.district_alias.get(city, {})
        if name in aliases:
            return aliases[name]
        county = self.county_cities.get(name.rstrip("市"))
        if county and county[0] == city:
            return county[1]
        return None

    def city_of_district(self, text: str | None) -> str | None:
        return self.district_city.get(_clean(text)) if text else None

    def resolve(self, text: str) -> Place:
        """Resolve a free place name (city, county-level city or district) to a Place."""
        name = _clean(text)
        city = self.normalize_city(name)
        if city:
            county = self.county_cities.get(name.rstrip("市"))
            district = county[1] if county else None
            return Place(self.province_of[city], city, district)
        owner = self.district_city.get(name)
        if owner:
            return Place(self.province_of[owner], owner, self.normalize_district(owner, name))
        raise UnknownPlace(text)

    def parse_area(self, text: str) -> Place:
        """Parse a feed's area: 浙江省宁波, 云南省昆明盘龙区, 上海·浦东新区, 深圳深圳宝安区宝安."""
        rest = _clean(text).replace("·", "").replace("-", "")
        if not rest:
            raise UnknownPlace(text)
        province = None
        for alias in sorted(self.province_alias, key=len, reverse=True):
            if rest.startswith(alias):
                province = self.province_alias[alias]
                rest = rest[len(alias) :]
                break
        else:
            match = _PROVINCE_PREFIX.match(rest)  # a misspelt province such as 广省
            if match and not self._city_prefix(rest):
                rest = rest[match.end() :]
        city_match = self._city_prefix(rest)
        if city_match is None:
            if province and self._is_municipality(province):
                city_match = (province, "")
            else:
                raise UnknownPlace(text)
        alias, city_or_county = city_match
        rest = rest[len(alias) :]
        district: str | None = None
        if city_or_county in self.county_cities:
            city, district = self.county_cities[city_or_county]
            tail = district[len(alias) :] if district.startswith(alias) else ""
            if tail and rest.startswith(tail):  # 浦东 + 新区
                rest = rest[len(tail) :]
        else:
            city = city_or_county
        if province and self.province_of[city] != province:
            raise UnknownPlace(text)
        if district is None and rest:
            known = self._known_district_prefix(city, rest)  # 长沙县 before 长沙 + 县
            if known is None and rest.startswith(city):  # 深圳深圳南山区, 上海上海
                rest = rest[len(city) :]
            if rest:
                district, rest = known or self._district_prefix(city, rest)
        locality = rest or None
        return Place(self.province_of[city], city, district, locality)

    def _is_municipality(self, province: str) -> bool:
        return province in self.province_of and self.province_of[province] == province

    def _city_prefix(self, text: str) -> tuple[str, str] | None:
        for length in range(min(len(text), 12), 1, -1):
            head = text[:length]
            if head in self.city_alias:
                return head, self.city_alias[head]
            if head in self.county_cities:
                return head, head
            if head.endswith("市") and head[:-1] in self.city_alias:
                return head, self.city_alias[head[:-1]]
        return None

    def _known_district_prefix(self, city: str, text: str) -> tuple[str | None, str] | None:
        aliases = self.district_alias.get(city, {})
        for length in range(min(len(text), 12), 1, -1):
            head = text[:length]
            if head in aliases:
                return aliases[head], text[length:]
        return None

    def _district_prefix(self, city: str, text: str) -> tuple[str | None, str]:
        known = self._known_district_prefix(city, text)
        if known:
            return known
        match = _GENERIC_DISTRICT.match(text)
        if match:
            return match.group(1), text[match.end() :]
        return None, text

    # -- job and employment types ------------------------------------------------------
    def normalize_job_type(self, text: str | None) -> str | None:
        """送外卖 / 外卖骑手 / 看大门的 → canonical type; falls back to keyword search."""
        if not text:
            return None
        name = _clean(text).lower()
        if name in self.job_type_alias:
            return self.job_type_alias[name]
        for alias in sorted(self.job_type_alias, key=len, reverse=True):
            if len(alias) >= 2 and alias in name:
                return self.job_type_alias[alias]
        return self.classify_title(name)

    def classify_title(self, title: str) -> str | None:
        """The job type a posting's title names, by keyword (None when nothing matches)."""
        low = title.lower()
        for keyword, job_type in self.job_keywords:
            if keyword in low:
                return job_type
        return None

    def related_job_types(self, job_type: str) -> tuple[str, ...]:
        return self.related.get(job_type, ())

    def normalize_employment_type(self, text: str | None) -> str | None:
        if not text:
            return None
        name = _clean(text)
        if name in self.employment_alias:
            return self.employment_alias[name]
        for alias in sorted(self.employment_alias, key=len, reverse=True):
            if alias in name:
                return self.employment_alias[alias]
        return None


def _clean(text: str) -> str:
    return re.sub(r"\s+", "", str(text)).strip("，,。.！!？?")


@lru_cache(maxsize=1)
def get_gazetteer() -> Gazetteer:
    """The shared gazetteer, loaded once."""
    regions = yaml.safe_load((DATA_DIR / "regions.yml").read_text(encoding="utf-8"))
    types = yaml.safe_load((DATA_DIR / "job_types.yml").read_text(encoding="utf-8"))
    province_of: dict[str, str] = {}
    city_alias: dict[str, str] = {}
    province_alias: dict[str, str] = {}
    for province in regions["provinces"]:
        name = province["name"]
        province_alias[name] = name
        province_alias[province["full"]] = name
        for entry in province["cities"]:
            canonical, *aliases = str(entry).split("|")
            province_of[canonical] = name
            for alias in (canonical, *aliases):
                city_alias[alias] = canonical
    county = {k: (v[0], v[1]) for k, v in regions["county_cities"].items()}
    districts: dict[str, tuple[str, ...]] = {}
    district_alias: dict[str, dict[str, str]] = {}
    seen: dict[str, set[str]] = {}
    for city, entries in regions["districts"].items():
        names: list[str] = []
        aliases_for_city: dict[str, str] = {}
        for entry in entries or []:
            canonical, *aliases = str(entry).split("|")
            names.append(canonical)
            short = canonical
            for suffix in _DISTRICT_SUFFIXES:
                if canonical.endswith(suffix) and len(canonical) - len(suffix) >= 2:
                    short = canonical[: -len(suffix)]
                    break
            for alias in {canonical, short, *aliases}:
                aliases_for_city[alias] = canonical
                seen.setdefault(alias, set()).add(city)
        districts[city] = tuple(names)
        district_alias[city] = aliases_for_city
    # Generic zone names (高新区) and names shared by several cities (鼓楼区) are ambiguous.
    district_city = {alias: next(iter(c)) for alias, c in seen.items() if len(c) == 1}
    for name, (city, _district) in county.items():
        district_city.setdefault(name, city)
    job_type_alias: dict[str, str] = {}
    keywords: list[tuple[str, str]] = []
    related: dict[str, tuple[str, ...]] = {}
    for job_type, spec in types["job_types"].items():
        job_type_alias[job_type.lower()] = job_type
        for synonym in spec.get("synonyms", []):
            job_type_alias.setdefault(str(synonym).lower(), job_type)
        keywords.extend((str(k).lower(), job_type) for k in spec.get("keywords", []))
        related[job_type] = tuple(spec.get("related", []))
    employment_alias = {
        alias: canonical
        for canonical, aliases in types["employment_types"].items()
        for alias in aliases
    }
    return Gazetteer(
        province_of=province_of,
        city_alias=city_alias,
        province_alias=province_alias,
        county_cities=county,
        districts=districts,
        district_alias=district_alias,
        district_city=district_city,
        job_types=tuple(types["job_types"]),
        job_type_alias=job_type_alias,
        job_keywords=tuple(keywords),
        related=related,
        employment_alias=employment_alias,
        benefits=frozenset(str(b) for b in types.get("benefits", [])),
    )

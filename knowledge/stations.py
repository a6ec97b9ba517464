"""Service stations and 零工市场: load the shipped sample or an operator's CSV; find the nearest or by district."""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

SAMPLE_CSV = Path(__file__).parent / "data" / "stations_sample.csv"
REQUIRED_COLUMNS = ("name", "type", "city", "district", "address", "lat", "lon")
EARTH_RADIUS_KM = 6371.0088
_SERVICE_SEPARATORS = ("；", ";", "|", "、")


class StationDataError(ValueError):
    """A stations CSV is missing columns or has a malformed row."""


@dataclass(frozen=True)
class Station:
    name: str
    type: str  # 就业服务站 or 零工市场
    city: str  # canonical, without 市 (杭州)
    district: str  # full name with 区/县 (余杭区)
    address: str
    lat: float
    lon: float
    hours: str = ""
    services: tuple[str, ...] = ()
    phone: str = ""
    sample: bool = False  # True for the project's illustrative data


@dataclass(frozen=True)
class StationHit:
    station: Station
    distance_km: float | None = None


def _split_services(text: str) -> tuple[str, ...]:
    for sep in _SERVICE_SEPARATORS[1:]:
        text = text.replace(sep, _SERVICE_SEPARATORS[0])
    return tuple(s.strip() for s in text.split(_SERVICE_SEPARATORS[0]) if s.strip())


def _normalise_city(city: str) -> str:
    city = city.strip()
    return city[:-1] if len(city) > 2 and city.endswith("市") else city


def parse_stations(text: str, source: str = "<csv>") -> list[Station]:
    """Parse stations from CSV text. Lines starting with ``#`` are comments."""
    lines = [line for line in io.StringIO(text) if not line.lstrip().startswith("#")]
    reader = csv.DictReader(lines)
    missing = [c for c in REQUIRED_COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise StationDataError(f"{source}: missing columns {', '.join(missing)}")
    stations: list[Station] = []
    for row_no, row in enumerate(reader, start=2):
        try:
            lat, lon = float(row["lat"]), float(row["lon"])
        except (TypeError, ValueError) as exc:
            raise StationDataError(f"{source} row {row_no}: bad coordinates") from exc
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            raise StationDataError(f"{source} row {row_no}: coordinates out of range")
        if not (row.get("name") or "").strip():
            raise StationDataError(f"{source} row {row_no}: empty name")
        stations.append(
            Station(
                name=row["name"].strip(),
                type=(row.get("type") or "就业服务站").strip(),
                city=_normalise_city(row.get("city") or ""),
                district=(row.get("district") or "").strip(),
                address=(row.get("address") or "").strip(),
                lat=lat,
                lon=lon,
                hours=(row.get("hours") or "").strip(),
                services=_split_services(row.get("services") or ""),
                phone=(row.get("phone") or "").strip(),
                sample=(row.get("data_status") or "").strip() in {"示例数据", "sample"},
            )
        )
    return stations


def load_stations(path: Path | str | None = None) -> list[Station]:
    """Load stations from ``path`` (an operator's CSV), or the shipped sample when empty."""
    csv_path = Path(path) if path else SAMPLE_CSV
    return parse_stations(csv_path.read_text(encoding="utf-8-sig"), source=str(csv_path))


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in kilometres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(a))


class StationDirectory:
    """Queries over a fixed list of stations."""

    def __init__(self, stations: Iterable[Station]) -> None:
        self._stations: tuple[Station, ...] = tuple(stations)

    def __len__(self) -> int:
        return len(self._stations)

    @property
    def stations(self) -> Sequence[Station]:
        return self._stations

    def nearest(
        self, lat: float, lon: float, limit: int = 3, max_km: float | None = None
    ) -> list[StationHit]:
        """Stations nearest to a point, closest first, optionally within ``max_km``."""
        hits = [StationHit(s, haversine_km(lat, lon, s.lat, s.lon)) for s in self._stations]
        hits.sort(key=lambda h: h.distance_km or 0.0)
        if max_km is not None:
            hits = [h for h in hits if (h.distance_km or 0.0) <= max_km]
        return hits[:limit]

    def in_area(
        self,
        district: str | None = None,
        city: str | None = None,
        limit: int = 3,
        near: tuple[float, float] | None = None,
    ) -> list[StationHit]:
        """Stations in a district (and city, when given) or a whole city.

        The district matches with or without its 区/县 suffix, so 余杭 finds 余杭区.
        """
        city_norm = _normalise_city(city) if city else None
        district_stem = district.strip().rstrip("区县市") if district else None
        found = [
            s
            for s in self._stations
            if (city_norm is None or s.city == city_norm)
            and (
                district_stem is None
                or s.district == district
                or s.district.rstrip("区县市") == district_stem
            )
        ]
        if near is not None:
            hits = [StationHit(s, haversine_km(near[0], near[1], s.lat, s.lon)) for s in found]
            hits.sort(key=lambda h: h.distance_km or 0.0)
        else:
            # Job-service stations before 零工市场 keeps the most general help first.
            hits = [StationHit(s) for s in sorted(found, key=lambda s: s.type != "就业服务站")]
        return hits[:limit]

    def cities(self) -> list[str]:
        return sorted({s.city for s in self._stations})


@lru_cache(maxsize=4)
def get_directory(csv_path: str = "") -> StationDirectory:
    """The station directory for a configured CSV path ("" = shipped sample), loaded once."""
    return StationDirectory(load_stations(csv_path or None))

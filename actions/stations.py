"""Find public employment service stations and 零工市场: nearest to a shared location, or by district/city."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from actions.session import is_voice
from knowledge.settings import get_settings
from knowledge.stations import StationDirectory, StationHit, get_directory

MAX_RESULTS = 3
FAR_KM = 50.0  # beyond this the "nearest" station is not really near: say so


def _entity(tracker: Tracker, name: str) -> Any:
    return next(tracker.get_latest_entity_values(name), None)


def _as_float(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number


def _location(lat: Any, lon: Any) -> tuple[float, float] | None:
    la, lo = _as_float(lat), _as_float(lon)
    if la is None or lo is None or not (-90 <= la <= 90 and -180 <= lo <= 180):
        return None
    return la, lo


def _format_distance(km: float) -> str:
    return f"{km * 1000:.0f}米" if km < 1 else f"{km:.1f}公里"


def _text_for(hits: list[StationHit], header: str, sample: bool) -> str:
    lines = [header]
    for i, hit in enumerate(hits, start=1):
        s = hit.station
        distance = (
            f"（约{_format_distance(hit.distance_km)}）" if hit.distance_km is not None else ""
        )
        lines.append(f"{i}. {s.name}{distance}")
        lines.append(f"   地址：{s.city}{s.district}{s.address}")
        if s.hours:
            lines.append(f"   时间：{s.hours}")
        if s.services:
            lines.append(f"   服务：{'、'.join(s.services)}")
        if s.phone:
            lines.append(f"   电话：{s.phone}")
    if sample:
        lines.append("（以上为示例数据，请以当地人社部门公布的信息为准。）")
    return "\n".join(lines)


def _voice_for(hits: list[StationHit], header: str) -> str:
    parts = [header]
    for hit in hits[:2]:
        s = hit.station
        distance = f"，约{_format_distance(hit.distance_km)}" if hit.distance_km is not None else ""
        hours = f"，{s.hours}开放" if s.hours else ""
        parts.append(f"{s.name}，在{s.district}{s.address}{distance}{hours}。")
    return "".join(parts)


def _payload(hits: list[StationHit]) -> dict[str, Any]:
    return {
        "type": "stations",
        "items": [
            {
                "name": h.station.name,
                "address": f"{h.station.city}{h.station.district}{h.station.address}",
                "hours": h.station.hours,
                "services": list(h.station.services),
                "distance_km": None if h.distance_km is None else round(h.distance_km, 2),
            }
            for h in hits
        ],
    }


class ActionFindStations(Action):
    """Nearest stations for a shared location, else stations in the named district or city."""

    def name(self) -> str:
        return "action_find_stations"

    def directory(self) -> StationDirectory:
        return get_directory(get_settings().stations_csv)

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        directory = self.directory()
        # What the user said in this message wins over what we remember from earlier.
        here = _location(_entity(tracker, "latitude"), _entity(tracker, "longitude"))
        district = _entity(tracker, "district")
        city = _entity(tracker, "city")
        if here is None and district is None and city is None:
            here = _location(tracker.get_slot("latitude"), tracker.get_slot("longitude"))
            if here is None:
                district = tracker.get_slot("district")
                city = tracker.get_slot("city")

        if here is not None:
            hits = directory.nearest(here[0], here[1], limit=MAX_RESULTS)
            far = bool(hits) and (hits[0].distance_km or 0.0) > FAR_KM
            header = (
                f"{FAR_KM:.0f}公里内没有找到服务站，离您最近的是：" if far else "离您最近的服务站："
            )
        elif district or city:
            hits = directory.in_area(district=district, city=city, limit=MAX_RESULTS)
            if not hits and district and city:
                # The district may be misheard or mistyped: fall back to the whole city.
                hits = directory.in_area(city=city, limit=MAX_RESULTS)
            area = district or city
            header = f"{area}的服务站："
            if not hits:
                dispatcher.utter_message(
                    response="utter_no_stations_in_area",
                    area=area,
                    cities="、".join(directory.cities()),
                )
                return []
        else:
            dispatcher.utter_message(response="utter_ask_location")
            return []

        if not hits:
            dispatcher.utter_message(
                response="utter_no_stations_in_area",
                area="附近",
                cities="、".join(directory.cities()),
            )
            return []
        sample = any(h.station.sample for h in hits)
        if is_voice(tracker):
            dispatcher.utter_message(text=_voice_for(hits, header))
        else:
            dispatcher.utter_message(text=_text_for(hits, header, sample))
        dispatcher.utter_message(json_message=_payload(hits))
        return []

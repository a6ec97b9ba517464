"""Station data (sample and operator CSV), distance queries and action_find_stations."""

from __future__ import annotations

from pathlib import Path

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions.stations import ActionFindStations
from knowledge.stations import (
    SAMPLE_CSV,
    StationDataError,
    StationDirectory,
    haversine_km,
    load_stations,
    parse_stations,
)
from tests.dialogue.helpers import load_domain, tracker, user

WEST_LAKE = (30.2590, 120.1300)  # a point in 西湖区, 杭州


def test_sample_is_marked_and_broad() -> None:
    assert SAMPLE_CSV.read_text(encoding="utf-8").startswith("# 示例数据")
    stations = load_stations()
    assert len(stations) >= 40
    assert len({s.city for s in stations}) >= 6
    assert all(s.sample for s in stations)
    assert {s.type for s in stations} == {"就业服务站", "零工市场"}
    assert all(s.hours and s.services and s.address for s in stations)


def test_haversine_matches_a_known_distance() -> None:
    # Beijing (Tiananmen) to Shanghai (People's Square) is about 1,067 km.
    assert haversine_km(39.9087, 116.3975, 31.2304, 121.4737) == pytest.approx(1067, rel=0.01)
    assert haversine_km(30.0, 120.0, 30.0, 120.0) == 0.0


def test_nearest_first_and_by_district() -> None:
    directory = StationDirectory(load_stations())
    hits = directory.nearest(*WEST_LAKE, limit=3)
    assert [h.station.city for h in hits] == ["杭州"] * 3
    distances = [h.distance_km or 0.0 for h in hits]
    assert distances == sorted(distances) and distances[0] < 5
    yuhang = directory.in_area(district="余杭", limit=5)
    assert {h.station.district for h in yuhang} == {"余杭区"} and len(yuhang) == 2
    assert yuhang[0].station.type == "就业服务站"  # general help before 零工市场
    assert directory.in_area(city="成都市", limit=10)[0].station.city == "成都"
    assert directory.in_area(district="不存在区") == []


def test_operator_csv_is_loaded_and_checked(tmp_path: Path) -> None:
    path = tmp_path / "ops.csv"
    path.write_text(
        "\ufeffname,type,city,district,address,lat,lon,hours,services\n"
        "测试站,就业服务站,宁波市,鄞州区,天童南路1号,29.8167,121.5470,周一至周五,求职登记|政策咨询\n",
        encoding="utf-8",
    )
    (station,) = load_stations(path)
    assert station.city == "宁波" and station.services == ("求职登记", "政策咨询")
    assert not station.sample
    with pytest.raises(StationDataError, match="missing columns"):
        parse_stations("name,city\nx,y\n")
    with pytest.raises(StationDataError, match="coordinates"):
        parse_stations("name,type,city,district,address,lat,lon\nx,t,c,d,a,north,1\n")


async def test_action_by_shared_location() -> None:
    entities = [
        {"entity": "latitude", "value": WEST_LAKE[0]},
        {"entity": "longitude", "value": WEST_LAKE[1]},
    ]
    t = tracker(
        events=[
            user(
                '/share_location{"latitude":30.259,"longitude":120.13}', "share_location", entities
            )
        ]
    )
    dispatcher = CollectingDispatcher()
    assert await ActionFindStations().run(dispatcher, t, load_domain()) == []
    text, custom = dispatcher.messages[0]["text"], dispatcher.messages[1]["custom"]
    assert text.startswith("离您最近的服务站")
    assert "地址：" in text and "时间：" in text and "服务：" in text and "示例数据" in text
    assert custom["type"] == "stations" and len(custom["items"]) == 3
    first = custom["items"][0]
    assert set(first) == {"name", "address", "hours", "services", "distance_km"}
    assert first["distance_km"] <= custom["items"][1]["distance_km"]


async def test_action_by_district_entity_beats_remembered_location() -> None:
    t = tracker(
        slots={"latitude": 39.9, "longitude": 116.4},  # shared earlier, in Beijing
        events=[
            user(
                "余杭区的服务站在哪",
                "find_service_station",
                [{"entity": "district", "value": "余杭区"}],
            )
        ],
    )
    dispatcher = CollectingDispatcher()
    await ActionFindStations().run(dispatcher, t, load_domain())
    items = dispatcher.messages[1]["custom"]["items"]
    assert items and all("余杭区" in i["address"] for i in items)
    assert all(i["distance_km"] is None for i in items)


async def test_action_uses_slots_then_asks() -> None:
    dispatcher = CollectingDispatcher()
    t = tracker(slots={"city": "郑州"}, events=[user("附近有服务站吗", "find_service_station")])
    await ActionFindStations().run(dispatcher, t, load_domain())
    assert "郑州" in dispatcher.messages[0]["text"]

    ask = CollectingDispatcher()
    await ActionFindStations().run(
        ask, tracker(events=[user("服务站在哪", "find_service_station")]), load_domain()
    )
    assert ask.messages == [ask.messages[0]] and ask.messages[0]["response"] == "utter_ask_location"


async def test_action_unknown_area_and_voice() -> None:
    dispatcher = CollectingDispatcher()
    t = tracker(
        events=[user("拉萨的服务站", "find_service_station", [{"entity": "city", "value": "拉萨"}])]
    )
    await ActionFindStations().run(dispatcher, t, load_domain())
    message = dispatcher.messages[0]
    assert message["response"] == "utter_no_stations_in_area" and message["area"] == "拉萨"
    assert "杭州" in message["cities"]

    voice = CollectingDispatcher()
    t = tracker(
        slots={"channel_mode": "voice"},
        events=[
            user(
                "朝阳区服务站", "find_service_station", [{"entity": "district", "value": "朝阳区"}]
            )
        ],
    )
    await ActionFindStations().run(voice, t, load_domain())
    spoken = voice.messages[0]["text"]
    assert "\n" not in spoken and spoken.count("。") <= 3

"""Salary, amount and place parsing."""

from __future__ import annotations

import pytest

from knowledge.jobs import SalaryParseError, UnknownPlace, get_gazetteer, parse_amount, parse_salary
from knowledge.jobs.models import Salary


@pytest.mark.parametrize(
    ("text", "unit", "low", "high", "monthly_high"),
    [
        ("8千-1.2万", "month", 8000, 12000, 12000),
        ("1-1.5万", "month", 10000, 15000, 15000),
        ("1.5-2万·13薪", "month", 15000, 20000, 20000),
        ("6-8千", "month", 6000, 8000, 8000),
        ("150元/天", "day", 150, 150, 3262.5),
        ("25-50万/年", "year", 250000, 500000, 41666.67),
        ("4千及以下", "month", 0, 4000, 4000),
        ("20元/小时", "hour", 20, 20, 3480),
        ("4500", "month", 4500, 4500, 4500),
        ("4000-6000元/月", "month", 4000, 6000, 6000),
    ],
)
def test_feed_salaries(text: str, unit: str, low: float, high: float, monthly_high: float) -> None:
    salary = parse_salary(text)
    assert salary is not None
    assert (salary.unit, salary.low, salary.high) == (unit, low, high)
    assert salary.monthly()[1] == pytest.approx(monthly_high)


def test_bonus_months_are_kept_but_not_folded_into_monthly() -> None:
    salary = parse_salary("1.5-2万·13薪")
    assert salary == Salary(15000, 20000, "month", 13)
    assert salary.text() == "15000-20000元/月·13薪"


@pytest.mark.parametrize("text", ["9�-1.5万", "面包", "2万-1万", "abc元/天", "99999999元/天"])
def test_unparsable_salaries_raise(text: str) -> None:
    with pytest.raises(SalaryParseError):
        parse_salary(text)


@pytest.mark.parametrize("text", ["", "面议", None])
def test_negotiable_salary_is_none(text: str | None) -> None:
    assert parse_salary(text) is None


@pytest.mark.parametrize(
    ("text", "amount"),
    [
        ("五千", 5000),
        ("5000", 5000),
        ("5k", 5000),
        ("一万二", 12000),
        ("1.2万", 12000),
        ("四千五", 4500),
        ("月薪6000以上", 6000),
        ("两万", 20000),
        ("1万2", 12000),
        ("200一天", 4350),
        ("五千以上", 5000),
        ("随便", None),
    ],
)
def test_spoken_amounts(text: str, amount: float | None) -> None:
    assert parse_amount(text) == amount


@pytest.mark.parametrize(
    ("area", "expected"),
    [
        ("浙江省宁波", ("浙江", "宁波", None)),
        ("云南省昆明盘龙区", ("云南", "昆明", "盘龙区")),
        ("上海·浦东新区", ("上海", "上海", "浦东新区")),
        ("深圳深圳宝安区宝安", ("广东", "深圳", "宝安区")),
        ("上海上海", ("上海", "上海", None)),
        ("广西南宁", ("广西", "南宁", None)),
        ("湖南省长沙长沙县", ("湖南", "长沙", "长沙县")),
        ("江苏省昆山", ("江苏", "苏州", "昆山市")),
        ("湖北省武汉洪山区金融港", ("湖北", "武汉", "洪山区")),
        ("广省惠州惠城区", ("广东", "惠州", "惠城区")),
    ],
)
def test_areas(area: str, expected: tuple[str, str, str | None]) -> None:
    place = get_gazetteer().parse_area(area)
    assert (place.province, place.city, place.district) == expected


@pytest.mark.parametrize("area", ["云南省云南省", "", "火星省火星", "浙江省成都"])
def test_unknown_areas_raise(area: str) -> None:
    with pytest.raises(UnknownPlace):
        get_gazetteer().parse_area(area)


def test_synonyms() -> None:
    g = get_gazetteer()
    assert g.normalize_city("杭州市") == "杭州"
    assert g.normalize_city("义乌") == "金华"
    assert g.normalize_city("火星") is None
    assert g.normalize_district("杭州", "余杭") == "余杭区"
    assert g.resolve("余杭").city == "杭州"
    assert g.normalize_job_type("送外卖") == "外卖骑手"
    assert g.normalize_job_type("看大门的") == "保安"
    assert g.normalize_job_type("做饭的") == "厨师"
    assert g.normalize_job_type("仓库的活") == "仓储分拣"
    assert g.normalize_employment_type("有木有日结") == "日结"
    assert "普工" in g.related_job_types("仓储分拣")

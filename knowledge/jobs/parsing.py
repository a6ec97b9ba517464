"""Parsers for salaries as feeds write them (8千-1.2万·13薪, 150元/天) and amounts as people say them (五千, 1.2万)."""

from __future__ import annotations

import re

from knowledge.jobs.models import Salary


class SalaryParseError(ValueError):
    """Raised when a salary text cannot be understood."""


_DIGITS = {
    "零": 0,
    "〇": 0,
    "一": 1,
    "壹": 1,
    "二": 2,
    "两": 2,
    "贰": 2,
    "三": 3,
    "叁": 3,
    "四": 4,
    "肆": 4,
    "五": 5,
    "伍": 5,
    "六": 6,
    "陆": 6,
    "七": 7,
    "柒": 7,
    "八": 8,
    "捌": 8,
    "九": 9,
    "玖": 9,
}
_UNITS = {
    "十": 10,
    "拾": 10,
    "百": 100,
    "佰": 100,
    "千": 1000,
    "仟": 1000,
    "k": 1000,
    "K": 1000,
    "w": 10000,
    "W": 10000,
    "万": 10000,
}
_NEGOTIABLE = {"", "面议", "薪资面议", "工资面议", "待遇面议", "negotiable"}

_NUM = r"(\d+(?:\.\d+)?)\s*([千万kKwW]?)"
_RANGE = re.compile(rf"^{_NUM}\s*(?:-|~|～|至|到|—)\s*{_NUM}$")
_SINGLE = re.compile(rf"^{_NUM}$")
_UPTO = re.compile(rf"^{_NUM}\s*(?:及以下|以下)$")
_ATLEAST = re.compile(rf"^{_NUM}\s*(?:及以上|以上|起)$")


def parse_salary(text: str | None) -> Salary | None:
    """Parse a posting's salary; None for 面议/empty. Raises SalaryParseError when unparsable.

    Handles 8千-1.2万, 1-1.5万, 6-8千·13薪, 25-50万/年, 150元/天, 20元/小时, 4千及以下,
    4500-6000元/月 and plain 4500.
    """
    if text is None:
        return None
    raw = str(text).strip()
    if raw in _NEGOTIABLE:
        return None
    body = raw.replace(" ", "").replace("，", "").replace(",", "")
    months = 12
    bonus = re.search(r"[·•*]\s*(\d{2})薪$", body)
    if bonus:
        months = int(bonus.group(1))
        body = body[: bonus.start()]
    unit = "month"
    for pattern, name in (
        (r"(?:元)?/(?:天|日)$|元每天$|一天$", "day"),
        (r"(?:元)?/(?:小时|时|h)$|元每小时$", "hour"),
        (r"(?:元)?/年$|年薪$", "year"),
        (r"(?:元)?/月$|元$|月薪$", "month"),
    ):
        found = re.search(pattern, body)
        if found:
            unit = name
            body = body[: found.start()]
            break
    body = body.removeprefix("月薪").removeprefix("日薪").removeprefix("时薪")
    low: float
    high: float
    if match := _RANGE.match(body):
        first, first_unit, second, second_unit = match.groups()
        high = _scaled(second, second_unit)
        # "1-1.5万": the range's unit applies to a bare first number.
        low = _scaled(first, first_unit or second_unit)
    elif match := _UPTO.match(body):
        low = high = _scaled(*match.groups())
        low = 0.0
    elif match := (_ATLEAST.match(body) or _SINGLE.match(body)):
        low = high = _scaled(*match.groups())
    else:
        raise SalaryParseError(f"无法识别的薪资：{raw[:40]}")
    if high < low:
        raise SalaryParseError(f"薪资范围颠倒：{raw[:40]}")
    if high <= 0 or not _plausible(high, unit):
        raise SalaryParseError(f"薪资数额不合理：{raw[:40]}")
    return Salary(low=low, high=high, unit=unit, months=months)


def _scaled(number: str, unit: str) -> float:
    return round(float(number) * _UNITS.get(unit, 1), 2)


def _plausible(high: float, unit: str) -> bool:
    limit = {"month": 1_000_000, "day": 20_000, "hour": 5_000, "year": 20_000_000}[unit]
    return high <= limit


def parse_amount(text: str | None) -> float | None:
    """A monthly amount as people say it: 五千, 5000, 5k, 一万二, 1.2万, 四千五, 月薪6000以上 → yuan.

    Returns None when no amount is found. Day and hour rates (200一天) are converted to monthly.
    """
    if text is None:
        return None
    raw = str(text).strip().replace(",", "").replace("，", "")
    if not raw:
        return None
    try:
        salary = parse_salary(raw)
        if salary is not None:
            return salary.monthly()[0] if salary.low > 0 else salary.monthly()[1]
    except SalaryParseError:
        pass
    unit = "month"
    if re.search(r"(一天|每天|/天|天|日薪|日结)", raw):
        unit = "day"
    elif re.search(r"(小时|时薪|/h)", raw):
        unit = "hour"
    match = re.search(r"\d+(?:\.\d+)?\s*[千万kKwW]?\d*", raw)
    value: float | None = None
    if match:
        value = _arabic_with_unit(match.group(0).replace(" ", ""))
    else:
        chinese = re.search(
            f"[{''.join(_DIGITS)}{''.join(u for u in _UNITS if not u.isascii())}]+", raw
        )
        if chinese:
            value = chinese_number(chinese.group(0))
    if value is None or value <= 0:
        return None
    factor = {"month": 1.0, "day": 21.75, "hour": 174.0}[unit]
    return round(value * factor, 2)


def _arabic_with_unit(text: str) -> float | None:
    """5000 / 5k / 1.2万 / 1万2 (= 12000) / 4千5 (= 4500)."""
    match = re.fullmatch(r"(\d+(?:\.\d+)?)([千万kKwW]?)(\d*)", text)
    if not match:
        return None
    number, unit, tail = match.groups()
    scale = _UNITS.get(unit, 1)
    value = float(number) * scale
    if tail and unit:
        value += float(tail) * scale / 10 ** len(tail)
    return value


def chinese_number(text: str) -> float | None:
    """五千 → 5000, 一万二 → 12000, 四千五 → 4500, 三千五百 → 3500, 两万 → 20000."""
    total, section, digit = 0, 0, None
    last_unit = 1
    for char in text:
        if char in _DIGITS:
            digit = _DIGITS[char]
        elif char in _UNITS:
            unit = _UNITS[char]
            if unit == 10000:
                total = (total + section + (digit or 0)) * unit
                section = 0
            else:
                section += (1 if digit is None else digit) * unit
            digit = None
            last_unit = unit
        else:
            return None
    if digit is not None:
        # A trailing bare digit means the next lower unit: 一万二 = 12000, 四千五 = 4500.
        section += digit * (last_unit // 10 if last_unit >= 10 else 1)
    value = total + section
    return float(value) if value else None


_MOBILE = re.compile(r"(?<!\d)(?:\+?86)?(1[3-9]\d{9})(?!\d)")
_LANDLINE = re.compile(r"(?<!\d)(0\d{2,3})-?(\d{7,8})(?!\d)")
_SERVICE = re.compile(r"(?<!\d)(400|800)-?(\d{3})-?(\d{4})(?!\d)")


def normalise_phone(value: object) -> str | None:
    """A mainland mobile (13812345678), landline with area code (0571-88881234) or 400 number; else None."""
    text = str(value or "").strip()
    compact = re.sub(r"[\s-]", "", text)
    if match := _MOBILE.search(compact):
        return match.group(1)
    if match := _SERVICE.search(compact):
        return "-".join(match.groups())
    if match := _LANDLINE.search(text.replace(" ", "")):
        return f"{match.group(1)}-{match.group(2)}"
    return None

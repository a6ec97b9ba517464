"""Turn Rasa's replies (``BotMessage``) into Telegram messages: split text, inline keyboards, cards."""

from __future__ import annotations

import itertools
import unicodedata
from collections import OrderedDict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup
from telegram.constants import InlineKeyboardButtonLimit, MessageLimit

from connectors.rasa_client import BotMessage, Button

MAX_TEXT_UTF16 = int(MessageLimit.MAX_TEXT_LENGTH)  # 4096, counted by Telegram in UTF-16 units
MAX_CALLBACK_BYTES = int(InlineKeyboardButtonLimit.MAX_CALLBACK_DATA)  # 64
KEY_PREFIX = "#k"
"""Callback data that starts with this is a key into :class:`CallbackPayloads`, not a payload."""
DONE_MARK = "#done"
"""Callback data of the "✓ chosen" button left on a keyboard after it was pressed."""

MORE_RESULTS_PAYLOAD = "/more_results"

# Where a long text may be cut, best first: paragraph, line, sentence, clause, word.
_BREAKS: tuple[tuple[str, ...], ...] = (
    ("\n\n",),
    ("\n",),
    ("。", "！", "？", "!", "?", "…", "；", ";"),
    ("，", "、", ",", "：", ":"),
    (" ", "\t"),
)
_RELAXED_NAMES = {
    "district": "区县",
    "city": "城市",
    "salary": "薪资",
    "job_type": "工种",
    "employment_type": "用工形式",
}


@dataclass(frozen=True)
class Outgoing:
    """One message to send to a chat: text or a photo (with an optional caption), maybe a keyboard."""

    text: str = ""
    photo: str = ""
    keyboard: InlineKeyboardMarkup | None = None


def utf16_len(text: str) -> int:
    """Length as Telegram counts it (UTF-16 code units: characters outside the BMP count twice)."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def _prefix_within(text: str, limit: int) -> int:
    """Number of code points of ``text`` whose UTF-16 length fits in ``limit``."""
    used = 0
    for index, char in enumerate(text):
        used += 2 if ord(char) > 0xFFFF else 1
        if used > limit:
            return index
    return len(text)


def _joins_previous(char: str) -> bool:
    """Characters that belong to the one before them (accents, variation selectors, ZWJ)."""
    return (
        unicodedata.combining(char) > 0
        or char in "\u200d\ufe0e\ufe0f"
        or 0x1F3FB <= ord(char) <= 0x1F3FF  # skin-tone modifiers
        or 0xE0020 <= ord(char) <= 0xE007F  # tag characters in flag sequences
    )


def split_text(text: str, limit: int = MAX_TEXT_UTF16) -> list[str]:
    """Split ``text`` into chunks Telegram accepts, cutting at the best natural break.

    Lengths are counted in UTF-16 code units as Telegram does; a cut never falls inside a
    surrogate pair (Python strings hold whole code points) nor before a combining mark or
    joiner. Paragraphs, then lines, sentences, clauses and spaces are preferred over a hard cut,
    as long as the break lies in the second half of the chunk.
    """
    chunks: list[str] = []
    rest = text.strip()
    while rest:
        if utf16_len(rest) <= limit:
            chunks.append(rest)
            break
        fit = _prefix_within(rest, limit)
        cut = 0
        for group in _BREAKS:
            found = max(rest.rfind(sep, 0, fit) + len(sep) for sep in group)
            if found > fit // 2:  # rfind gave -1 → found < len(sep), never chosen
                cut = found
                break
        if not cut:
            cut = fit
            while cut > 1 and _joins_previous(rest[cut]):
                cut -= 1
        chunk = rest[:cut].rstrip()
        if chunk:
            chunks.append(chunk)
        rest = rest[cut:].lstrip()
    return chunks


class CallbackPayloads:
    """Per-chat map for button payloads longer than Telegram's 64-byte callback data.

    Short payloads travel in the callback data itself (they survive a restart); longer ones are
    kept here under a short key. Each chat keeps its latest ``per_chat`` keys.
    """

    def __init__(self, per_chat: int = 256) -> None:
        self._per_chat = per_chat
        self._maps: dict[int, OrderedDict[str, str]] = {}
        self._counter = itertools.count(1)

    def callback_data(self, chat_id: int, payload: str) -> str:
        """The callback data to put on a button carrying ``payload`` in ``chat_id``."""
        fits = len(payload.encode("utf-8")) <= MAX_CALLBACK_BYTES
        if fits and payload and not payload.startswith("#"):
            return payload
        chat_map = self._maps.setdefault(chat_id, OrderedDict())
        key = f"{KEY_PREFIX}{next(self._counter):x}"
        chat_map[key] = payload
        while len(chat_map) > self._per_chat:
            chat_map.popitem(last=False)
        return key

    def resolve(self, chat_id: int, data: str) -> str | None:
        """The payload a pressed button stands for; ``None`` when its key has been forgotten."""
        if not data.startswith(KEY_PREFIX):
            return data
        chat_map = self._maps.get(chat_id)
        return chat_map.get(data) if chat_map is not None else None


def _is_url(payload: str) -> bool:
    return payload.startswith(("https://", "http://", "tg://"))


def build_keyboard(
    chat_id: int, buttons: Sequence[Button], payloads: CallbackPayloads
) -> InlineKeyboardMarkup | None:
    """Inline keyboard for Rasa buttons: two per row when titles are short, else one."""
    if not buttons:
        return None
    keys = [
        InlineKeyboardButton(b.title, url=b.payload)
        if _is_url(b.payload)
        else InlineKeyboardButton(b.title, callback_data=payloads.callback_data(chat_id, b.payload))
        for b in buttons
        if b.title
    ]
    per_row = 2 if all(len(b.title) <= 8 for b in buttons) else 1
    rows = [keys[i : i + per_row] for i in range(0, len(keys), per_row)]
    return InlineKeyboardMarkup(rows) if rows else None


def mark_pressed(markup: InlineKeyboardMarkup | None, data: str) -> InlineKeyboardMarkup | None:
    """The keyboard to leave after a press: one inert "✓ title" button, or none when not found."""
    if markup is None:
        return None
    for row in markup.inline_keyboard:
        for key in row:
            if key.callback_data == data:
                return InlineKeyboardMarkup(
                    [[InlineKeyboardButton(f"✓ {key.text}", callback_data=DONE_MARK)]]
                )
    return None


# --- custom payloads ---------------------------------------------------------------------


def _str(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _join(parts: Iterable[Any], sep: str = "｜") -> str:
    return sep.join(p for p in (_str(x) for x in parts) if p)


def _jobs(custom: Mapping[str, Any], said: str) -> tuple[str, list[Button]]:
    items = [i for i in custom.get("items") or [] if isinstance(i, Mapping)]
    total = int(custom.get("total") or len(items))
    page = int(custom.get("page") or 1)
    lines: list[str] = []
    relaxed = [_RELAXED_NAMES.get(str(r), str(r)) for r in custom.get("relaxed") or []]
    if relaxed:
        lines.append(f"（没有完全符合的岗位，已放宽：{'、'.join(relaxed)}）")
    if not items:
        lines.append("暂时没有找到合适的岗位。")
        return "\n".join(lines), []
    lines.append(f"共 {total} 个岗位" + (f"，第 {page} 页：" if page > 1 else "："))
    for number, job in enumerate(items, start=1):
        head = _join([job.get("title"), job.get("company")])
        place = _join([job.get("city"), job.get("district")], " ")
        tags = job.get("tags") or []
        tag_text = "·".join(str(t) for t in tags) if isinstance(tags, list | tuple) else _str(tags)
        detail = _join([place, job.get("salary_text"), job.get("employment_type"), tag_text])
        lines.append(f"{number}. {head}" + (f"\n   {detail}" if detail else ""))
    more = (
        [Button("更多", MORE_RESULTS_PAYLOAD)]
        if _jobs_has_more(custom, page, len(items), total)
        else []
    )
    if said and all(_str(job.get("title")) in said for job in items):
        return "", more  # the action's text already lists them: add only the button
    return "\n".join(lines), more


def _jobs_has_more(custom: Mapping[str, Any], page: int, shown: int, total: int) -> bool:
    if "has_more" in custom:
        return bool(custom["has_more"])
    # Pages are numbered from 1; without a page size, assume this page is a full one.
    page_size = int(custom.get("page_size") or shown)
    return page * page_size < total


def _citation(doc: Any, article: Any) -> str:
    name = _str(doc)
    if name and not name.startswith("《"):
        name = f"《{name}》"
    art = _str(article)
    if (
        art
        and not art.startswith("第")
        and all(c in "0123456789零一二三四五六七八九十百千" for c in art)
    ):
        art = f"第{art}条"
    return name + art


def _policy_answer(custom: Mapping[str, Any], said: str) -> tuple[str, list[Button]]:
    cites = [
        _citation(c.get("document"), c.get("article"))
        for c in custom.get("citations") or []
        if isinstance(c, Mapping)
    ]
    cites = [c for c in cites if c]
    region, effective = _str(custom.get("region")), _str(custom.get("effective"))
    parts = []
    # Only what the answer text has not already said.
    if cites and not all(c in said for c in cites):
        parts.append("依据：" + "；".join(cites))
    if region and region not in said:
        parts.append(f"适用地区：{region}")
    if effective and effective not in said:
        parts.append(f"施行日期：{effective}")
    text = "📖 " + "｜".join(parts) if parts else ""
    related = [Button(_str(q), _str(q)) for q in custom.get("related") or [] if _str(q)]
    return text, related


def _stations(custom: Mapping[str, Any], said: str) -> tuple[str, list[Button]]:
    items = [i for i in custom.get("items") or [] if isinstance(i, Mapping)]
    if not items:
        return ("" if said else "附近暂时没有找到服务站。"), []
    if said and all(_str(i.get("name")) in said for i in items):
        return "", []  # the action's text already lists them
    lines = ["📍 附近的服务站："]
    for number, station in enumerate(items, start=1):
        head = f"{number}. {_str(station.get('name'))}"
        distance = station.get("distance_km")
        if isinstance(distance, int | float):
            head += f"（约 {distance:.1f} 公里）"
        lines.append(head)
        services = station.get("services")
        if isinstance(services, list | tuple):
            services = "、".join(str(s) for s in services)
        for label, value in (
            ("地址", station.get("address")),
            ("时间", station.get("hours")),
            ("服务", services),
        ):
            if _str(value):
                lines.append(f"   {label}：{_str(value)}")
    return "\n".join(lines), []


def _handoff(custom: Mapping[str, Any], said: str) -> tuple[str, list[Button]]:
    parts = []
    ticket, hours = _str(custom.get("ticket_id")), _str(custom.get("office_hours"))
    if ticket and ticket not in said:
        parts.append(f"工单号：{ticket}")
    if hours and hours not in said:
        parts.append(f"人工服务时间：{hours}")
    return ("🧑‍💼 " + "｜".join(parts)) if parts else "", []


_CUSTOM = {
    "jobs": _jobs,
    "policy_answer": _policy_answer,
    "stations": _stations,
    "handoff": _handoff,
}


def render_custom(custom: Mapping[str, Any], said: str = "") -> tuple[str, list[Button]]:
    """Text and extra buttons for one ``custom`` payload.

    Actions usually send their own text next to the payload, so only what ``said`` (the text of
    the same batch of replies) does not already contain is rendered. Unknown types render as
    nothing.
    """
    renderer = _CUSTOM.get(_str(custom.get("type")))
    return renderer(custom, said) if renderer else ("", [])


def _render(
    chat_id: int,
    message: BotMessage,
    payloads: CallbackPayloads,
    said: str,
    offered: frozenset[str] = frozenset(),
) -> tuple[list[Outgoing], InlineKeyboardMarkup | None]:
    custom_text, custom_buttons = (
        render_custom(message.custom, said) if message.custom else ("", [])
    )
    # A button the batch already offers (say related questions) is not offered twice.
    custom_buttons = [b for b in custom_buttons if b.payload not in offered]
    text = "\n\n".join(t for t in (message.text.strip(), custom_text) if t)
    body = [Outgoing(text=chunk) for chunk in split_text(text)]
    if message.image:
        body.append(Outgoing(photo=message.image))
    return body, build_keyboard(chat_id, [*message.buttons, *custom_buttons], payloads)


def _with_keyboard(body: list[Outgoing], keyboard: InlineKeyboardMarkup | None) -> list[Outgoing]:
    """Put ``keyboard`` on the last message (Telegram needs some text to hang it on)."""
    if keyboard is None:
        return body
    last = body[-1] if body else Outgoing(text="请选择：")
    return [*body[:-1], Outgoing(text=last.text, photo=last.photo, keyboard=keyboard)]


def render_message(
    chat_id: int, message: BotMessage, payloads: CallbackPayloads, said: str = ""
) -> list[Outgoing]:
    """Telegram messages for one Rasa reply. The keyboard goes on the last of them."""
    return _with_keyboard(*_render(chat_id, message, payloads, said))


def render_messages(
    chat_id: int, messages: Iterable[BotMessage], payloads: CallbackPayloads
) -> list[Outgoing]:
    """Telegram messages for all of Rasa's replies to one user message, in order.

    A reply that brings only buttons (say the 更多 under a job list the action already wrote out)
    hangs them on the message before it, when that one has no keyboard of its own; buttons the
    batch already offers are not repeated.
    """
    batch = list(messages)
    said = "\n".join(m.text for m in batch if m.text)
    offered = frozenset(b.payload for m in batch for b in m.buttons)
    out: list[Outgoing] = []
    for message in batch:
        body, keyboard = _render(chat_id, message, payloads, said, offered)
        if not body and keyboard is not None and out and out[-1].keyboard is None:
            out = _with_keyboard(out, keyboard)
        else:
            out.extend(_with_keyboard(body, keyboard))
    return out

"""Rendering Rasa replies for Telegram: splitting, keyboards, callback data, custom payloads."""

from __future__ import annotations

from connectors.rasa_client import BotMessage, Button
from connectors.telegram.render import (
    DONE_MARK,
    MAX_CALLBACK_BYTES,
    CallbackPayloads,
    build_keyboard,
    mark_pressed,
    render_message,
    render_messages,
    split_text,
    utf16_len,
)


def _no_lone_surrogates(chunk: str) -> bool:
    chunk.encode("utf-8")  # raises on a lone surrogate
    return True


def test_short_text_is_one_chunk() -> None:
    assert split_text("你好") == ["你好"]
    assert split_text("  \n ") == []


def test_long_text_breaks_at_newlines_within_the_limit() -> None:
    paragraph = "失业保险金按月发放。" * 30  # 300 characters
    text = "\n".join([paragraph] * 40)  # ~12,000 characters
    chunks = split_text(text)
    assert len(chunks) == 4  # 13 lines of 301 units fit in 4096
    assert all(utf16_len(c) <= 4096 for c in chunks)
    assert all(c.endswith("。") for c in chunks)  # whole lines only
    assert "\n".join(chunks) == text  # only the newlines at the cuts are dropped
    assert sum(c.count(paragraph) for c in chunks) == 40


def test_chinese_text_without_newlines_breaks_after_a_sentence() -> None:
    text = ("根据规定，符合条件的人员可以申请补贴" + "。") * 400
    chunks = split_text(text, limit=1000)
    assert all(c.endswith("。") and utf16_len(c) <= 1000 for c in chunks)
    assert "".join(chunks) == text


def test_astral_characters_count_double_and_are_never_cut() -> None:
    text = "😀" * 5000  # 10,000 UTF-16 units
    chunks = split_text(text)
    assert [utf16_len(c) for c in chunks] == [4096, 4096, 1808]
    assert all(_no_lone_surrogates(c) for c in chunks)
    assert "".join(chunks) == text


def test_hard_cut_keeps_combining_marks_and_joiners_with_their_base() -> None:
    family = "👨\u200d👩\u200d👧"  # ZWJ sequence
    text = family * 400
    for limit in range(50, 60):
        chunks = split_text(text, limit=limit)
        assert "".join(chunks) == text
        assert all(not c.startswith("\u200d") for c in chunks)
        assert all(utf16_len(c) <= limit for c in chunks)
    accented = "e\u0301" * 100
    chunks = split_text(accented, limit=9)
    assert all(not c.startswith("\u0301") for c in chunks)


def test_short_payloads_travel_in_callback_data_long_ones_by_key() -> None:
    payloads = CallbackPayloads()
    assert payloads.callback_data(1, "/search_job") == "/search_job"
    long_payload = '/inform{"city": "杭州", "district": "余杭区", "job_type": "仓库管理员"}'
    assert len(long_payload.encode()) > MAX_CALLBACK_BYTES
    key = payloads.callback_data(1, long_payload)
    assert len(key.encode()) <= MAX_CALLBACK_BYTES
    assert payloads.resolve(1, key) == long_payload
    assert payloads.resolve(2, key) is None  # another chat cannot use it
    assert payloads.resolve(1, "/search_job") == "/search_job"
    # A payload that looks like a key is stored, so it cannot be mistaken for one.
    tricky = payloads.callback_data(1, "#k1")
    assert payloads.resolve(1, tricky) == "#k1"


def test_payload_map_forgets_oldest_keys_per_chat() -> None:
    payloads = CallbackPayloads(per_chat=3)
    keys = [payloads.callback_data(7, "长" * 30 + str(i)) for i in range(5)]
    assert [payloads.resolve(7, k) for k in keys] == [None, None] + [
        "长" * 30 + str(i) for i in (2, 3, 4)
    ]


def test_keyboard_layout_and_url_buttons() -> None:
    payloads = CallbackPayloads()
    markup = build_keyboard(
        5,
        [
            Button("找工作", "/search_job"),
            Button("问政策", "/ask_policy"),
            Button("官网", "https://www.mohrss.gov.cn"),
        ],
        payloads,
    )
    assert markup is not None
    rows = markup.inline_keyboard
    assert [[b.text for b in row] for row in rows] == [["找工作", "问政策"], ["官网"]]
    assert rows[0][0].callback_data == "/search_job"
    assert rows[1][0].url == "https://www.mohrss.gov.cn" and rows[1][0].callback_data is None
    long_titles = build_keyboard(5, [Button("我想问一下灵活就业社保补贴怎么申请", "/x")], payloads)
    assert long_titles is not None and len(long_titles.inline_keyboard[0]) == 1


def test_mark_pressed_leaves_one_inert_button() -> None:
    markup = build_keyboard(
        1, [Button("是", "/affirm"), Button("不是", "/deny")], CallbackPayloads()
    )
    marked = mark_pressed(markup, "/deny")
    assert marked is not None
    assert [[(b.text, b.callback_data) for b in r] for r in marked.inline_keyboard] == [
        [("✓ 不是", DONE_MARK)]
    ]
    assert mark_pressed(markup, "/other") is None


def _jobs(page: int, total: int, n: int = 2, relaxed: list[str] | None = None) -> dict:
    items = [
        {
            "id": f"j{i}",
            "title": f"仓库分拣员{i}",
            "company": "某物流公司",
            "city": "杭州",
            "district": "余杭区",
            "salary_text": "5000-7000元/月",
            "employment_type": "全职",
            "tags": ["包住", "五险"],
        }
        for i in range(n)
    ]
    return {"type": "jobs", "items": items, "relaxed": relaxed or [], "page": page, "total": total}


def test_jobs_render_as_compact_cards_with_a_more_button() -> None:
    [out] = render_message(
        3, BotMessage(text="为您找到这些岗位：", custom=_jobs(1, 5)), CallbackPayloads()
    )
    assert out.text.startswith("为您找到这些岗位：\n\n共 5 个岗位：\n1. 仓库分拣员0｜某物流公司\n")
    assert "杭州 余杭区｜5000-7000元/月｜全职｜包住·五险" in out.text
    assert out.keyboard is not None
    [[more]] = out.keyboard.inline_keyboard
    assert (more.text, more.callback_data) == ("更多", "/more_results")


def test_jobs_last_page_has_no_more_button_and_relaxation_is_said() -> None:
    last_page = {**_jobs(3, 5, n=1, relaxed=["district"]), "page_size": 2}
    [out] = render_message(3, BotMessage(custom=last_page), CallbackPayloads())
    assert out.keyboard is None
    assert "已放宽：区县" in out.text and "第 3 页" in out.text
    [empty] = render_message(3, BotMessage(custom=_jobs(1, 0, n=0)), CallbackPayloads())
    assert "暂时没有找到合适的岗位" in empty.text


def test_policy_answer_adds_the_citation_line_and_related_questions() -> None:
    custom = {
        "type": "policy_answer",
        "citations": [
            {"document": "失业保险条例", "article": "第十四条"},
            {"document": "《社会保险法》", "article": "四十五"},
        ],
        "region": "全国",
        "effective": "1999-01-22",
        "related": ["领取失业保险金期间可以报销医疗费吗？需要带什么材料？"],
    }
    payloads = CallbackPayloads()
    [out] = render_message(9, BotMessage(text="可以按月领取失业保险金。", custom=custom), payloads)
    assert out.text.endswith(
        "📖 依据：《失业保险条例》第十四条；《社会保险法》第四十五条｜适用地区：全国｜施行日期：1999-01-22"
    )
    assert out.keyboard is not None
    [[related]] = out.keyboard.inline_keyboard
    assert payloads.resolve(9, str(related.callback_data)) == custom["related"][0]


def test_stations_and_handoff() -> None:
    stations = {
        "type": "stations",
        "items": [
            {
                "name": "余杭区就业服务站",
                "address": "临平大道 1 号",
                "hours": "9:00-17:00",
                "services": ["求职登记", "零工对接"],
                "distance_km": 1.234,
            }
        ],
    }
    [out] = render_message(1, BotMessage(custom=stations), CallbackPayloads())
    assert out.text == (
        "📍 附近的服务站：\n1. 余杭区就业服务站（约 1.2 公里）\n   地址：临平大道 1 号\n"
        "   时间：9:00-17:00\n   服务：求职登记、零工对接"
    )
    handoff = {
        "type": "handoff",
        "ticket_id": "T-20260101-0007",
        "office_hours": "工作日 9:00-17:00",
    }
    [out] = render_message(1, BotMessage(text="已为您转人工。", custom=handoff), CallbackPayloads())
    assert (
        out.text
        == "已为您转人工。\n\n🧑‍💼 工单号：T-20260101-0007｜人工服务时间：工作日 9:00-17:00"
    )


def test_unknown_custom_and_image_messages() -> None:
    assert render_message(1, BotMessage(custom={"type": "confetti"}), CallbackPayloads()) == []
    out = render_message(
        1,
        BotMessage(
            text="扫码关注", image="https://example.org/qr.png", buttons=(Button("好", "/affirm"),)
        ),
        CallbackPayloads(),
    )
    assert [(o.text, o.photo) for o in out] == [
        ("扫码关注", ""),
        ("", "https://example.org/qr.png"),
    ]
    assert out[0].keyboard is None and out[1].keyboard is not None
    [only_buttons] = render_message(
        1, BotMessage(buttons=(Button("好", "/affirm"),)), CallbackPayloads()
    )
    assert only_buttons.text == "请选择：" and only_buttons.keyboard is not None


def test_custom_payloads_do_not_repeat_what_the_action_text_said() -> None:
    payloads = CallbackPayloads()
    listed = "为您找到：\n1. 仓库分拣员0（某物流公司）\n2. 仓库分拣员1（某物流公司）"
    jobs = {**_jobs(1, 5), "has_more": True}
    out = render_messages(4, [BotMessage(text=listed), BotMessage(custom=jobs)], payloads)
    assert [o.text for o in out] == [listed]  # no second list, the 更多 hangs on the text
    assert out[0].keyboard is not None
    assert out[0].keyboard.inline_keyboard[0][0].callback_data == "/more_results"

    stations = {
        "type": "stations",
        "items": [{"name": "余杭区就业服务站", "address": "临平大道 1 号"}],
    }
    out = render_messages(
        4,
        [BotMessage(text="1. 余杭区就业服务站（约1.2公里）"), BotMessage(custom=stations)],
        payloads,
    )
    assert [o.text for o in out] == ["1. 余杭区就业服务站（约1.2公里）"]

    handoff = {"type": "handoff", "ticket_id": "T-1", "office_hours": "工作日 9:00-17:00"}
    said = "已为您登记人工服务，工单号：T-1。\n人工服务时间：工作日 9:00-17:00。"
    assert [
        o.text
        for o in render_messages(4, [BotMessage(text=said), BotMessage(custom=handoff)], payloads)
    ] == [said]

    policy = {
        "type": "policy_answer",
        "citations": [{"document": "失业保险条例", "article": "第十四条"}],
        "region": "全国",
        "effective": "1999-01-22",
    }
    answer = "可以领取。（《失业保险条例》第十四条）"
    out = render_messages(4, [BotMessage(text=answer), BotMessage(custom=policy)], payloads)
    assert [o.text for o in out] == [answer, "📖 适用地区：全国｜施行日期：1999-01-22"]


def test_explicit_has_more_wins() -> None:
    [out] = render_message(
        3, BotMessage(custom={**_jobs(1, 5), "has_more": False}), CallbackPayloads()
    )
    assert out.keyboard is None


def test_related_questions_already_offered_as_buttons_are_not_repeated() -> None:
    question = "失业保险金能领多久？"
    answer = BotMessage(
        text="可以领取。\n依据：《失业保险条例》第十四条（全国，1999-01-22起施行）",
        buttons=(Button("领多久", question),),
    )
    custom = {
        "type": "policy_answer",
        "citations": [{"document": "失业保险条例", "article": "第十四条"}],
        "region": "全国",
        "effective": "1999-01-22",
        "related": [question],
    }
    out = render_messages(4, [answer, BotMessage(custom=custom)], CallbackPayloads())
    assert [o.text for o in out] == [answer.text]  # nothing said twice
    assert out[0].keyboard is not None
    assert [b.text for row in out[0].keyboard.inline_keyboard for b in row] == ["领多久"]

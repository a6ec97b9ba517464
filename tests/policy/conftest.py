"""Shared fixtures for policy tests: a tiny deterministic embedder and a small index."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from knowledge.policy_corpus import Citation, PolicyEntry

REPO = Path(__file__).resolve().parents[2]
SHARED_DATA = REPO.parent / "shared" / "data"
LAWS_DIR = SHARED_DATA / "laws"


class FakeEmbedder:
    """Character-bigram hashing embedder: fast, deterministic, similar texts → similar vectors."""

    def __init__(self, name: str = "fake-bigram", dim: int = 256) -> None:
        self.name = name
        self.dim = dim
        self.calls = 0

    def _encode(self, texts: Sequence[str]) -> np.ndarray:
        self.calls += 1
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, t in enumerate(texts):
            chars = [c for c in t if not c.isspace()]
            for a, b in zip(chars, chars[1:] + [""], strict=True):
                h = int(hashlib.md5((a + b).encode()).hexdigest()[:8], 16)
                out[i, h % self.dim] += 1.0
            out[i, 0] += 0.01  # never an all-zero row
        return out / np.linalg.norm(out, axis=1, keepdims=True)

    def encode_queries(self, texts: Sequence[str], batch_size: int = 32) -> np.ndarray:
        return self._encode(texts)

    def encode_passages(self, texts: Sequence[str], batch_size: int = 32) -> np.ndarray:
        return self._encode(texts)


def make_entry(
    eid: str,
    title: str,
    answer: str,
    *,
    aliases: Sequence[str] = (),
    audience: str = "worker",
    region: str = "全国",
    document: str = "失业保险条例",
    article: str = "第十四条",
    related: Sequence[str] = (),
    local_amounts_vary: bool = False,
    effective: str = "1999-01-22",
) -> PolicyEntry:
    return PolicyEntry(
        id=eid,
        title=title,
        audience=audience,
        region=region,
        effective=effective,
        answer=answer,
        short=answer[:30],
        citations=(Citation(document, article),),
        aliases=tuple(aliases),
        related=tuple(related),
        local_amounts_vary=local_amounts_vary,
    )


SAMPLE_ENTRIES = (
    make_entry(
        "ui-conditions",
        "领取失业保险金的条件",
        "缴费满一年、非本人意愿中断就业、办了失业登记并有求职要求，就可以领取失业保险金。",
        aliases=("失业金怎么才能领", "辞职了能不能领失业金"),
        related=("ui-duration",),
    ),
    make_entry(
        "ui-duration",
        "失业保险金能领多久",
        "缴费满一年不足五年最长领12个月，满五年不足十年最长18个月，十年以上最长24个月。",
        aliases=("失业金能领几个月",),
        article="第十七条",
        local_amounts_vary=True,
    ),
    make_entry(
        "emp-disabled",
        "用人单位招用残疾人的优惠",
        "按比例安排残疾人就业的单位可以少交或免交残疾人就业保障金，还可享受税收优惠。",
        aliases=("公司招残疾人有什么优惠",),
        audience="employer",
        document="残疾人就业条例",
        article="第八条",
    ),
    make_entry(
        "gd-ui-amount",
        "广东失业保险金标准",
        "广东省失业保险金按当地最低工资标准的90%发放。",
        aliases=("广东失业金一个月多少钱",),
        region="广东",
        document="广东省失业保险条例",
        article="第二十三条",
    ),
)

LAW_MD = """# 测试失业保险条例

2020年1月1日 测试通过

2020年5月1日 施行

<!-- INFO END -->

## 第一章 总则

第一条 为了保障失业人员失业期间的基本生活，制定本条例。

## 第三章 失业保险待遇

第十四条 具备下列条件的失业人员，可以领取失业保险金：

（一）按照规定参加失业保险，缴费满1年的；

（二）非因本人意愿中断就业的。

第十七条 失业人员失业前累计缴费满1年不足5年的，领取失业保险金的期限最长为12个月。

第二十条之一 用人单位招用残疾人的，依照规定享受税收优惠。

第一百零二条 本条例自2020年5月1日起施行。
"""


@pytest.fixture
def fake_embedder() -> FakeEmbedder:
    return FakeEmbedder()


@pytest.fixture
def law_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "laws"
    folder.mkdir()
    (folder / "测试失业保险条例(2020-05-01).md").write_text(LAW_MD, encoding="utf-8")
    return folder

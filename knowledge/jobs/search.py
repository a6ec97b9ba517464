"""Job search: structured filters over an in-memory column table, semantic ranking with FAISS,
relaxation in a stated order when nothing matches, and paging.

Filters run as numpy masks over all live postings (a few ms at a million); the ranking
scores only the distinct texts of the postings that pass, exactly (IndexFlatIP) or
approximately (IVF) with the filter as a FAISS ID selector.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import Protocol

import numpy as np

from knowledge.jobs.gazetteer import get_gazetteer
from knowledge.jobs.models import Job, JobQuery, SearchResult
from knowledge.jobs.store import IndexRows, JobStore, day_number
from knowledge.jobs.vectors import TextVectors

log = logging.getLogger(__name__)

PAGE_SIZE = 5
SALARY_RELAX = 0.9


class TextEncoder(Protocol):
    """What the search needs from an embedder (``knowledge.embeddings.Embedder`` fits)."""

    dim: int

    def encode_queries(self, texts: Sequence[str], batch_size: int = 32) -> np.ndarray: ...

    def encode_passages(self, texts: Sequence[str], batch_size: int = 32) -> np.ndarray: ...


class _Vocab:
    """String ↔ small-int codes, so filters compare integers."""

    def __init__(self) -> None:
        self.code: dict[str | None, int] = {None: 0}

    def encode(self, values: Sequence[str | None]) -> np.ndarray:
        code = self.code
        out = np.empty(len(values), dtype=np.int32)
        for i, value in enumerate(values):
            c = code.get(value)
            if c is None:
                c = code[value] = len(code)
            out[i] = c
        return out

    def get(self, value: str | None) -> int:
        return self.code.get(value, -1)


@dataclass
class _Columns:
    ids: np.ndarray
    city: np.ndarray
    district: np.ndarray
    job_type: np.ndarray
    employment: np.ndarray
    salary: np.ndarray
    expires: np.ndarray
    posted: np.ndarray
    text_row: np.ndarray


class JobSearch:
    """Search over a JobStore. Thread-safe; picks up postings added by any process on the next query."""

    def __init__(
        self,
        store: JobStore,
        embedder: TextEncoder,
        index_dir: Path | None = None,
        approximate: bool | None = None,
    ) -> None:
        self.store = store
        self.embedder = embedder
        self.vectors = TextVectors(
            int(embedder.dim), str(getattr(embedder, "name", type(embedder).__name__)), index_dir
        )
        self.approximate = approximate
        self._vocab = {name: _Vocab() for name in ("city", "district", "job_type", "employment")}
        self._cols: _Columns | None = None
        self._max_id = 0
        self._lock = threading.RLock()
        self._query_cache: OrderedDict[str, np.ndarray] = OrderedDict()

    @classmethod
    def from_settings(
        cls, store: JobStore | None = None, embedder: TextEncoder | None = None
    ) -> JobSearch:
        from knowledge.settings import get_settings

        settings = get_settings()
        if embedder is None:
            from knowledge.embeddings import get_embedder

            embedder = get_embedder()
        return cls(store or JobStore(settings.jobs_db_url), embedder, Path(settings.jobs_index_dir))

    # -- loading --------------------------------------------------------------------------
    def refresh(self) -> int:
        """Load postings stored since the last refresh (by any process); returns how many."""
        with self._lock:
            if self._cols is not None and self.store.max_id() <= self._max_id:
                return 0
            rows = self.store.index_rows(after_id=self._max_id)
            if len(rows.ids) == 0:
                if self._cols is None:
                    self._cols = self._columns(rows)
                return 0
            self._ensure_vectors(rows)
            new = self._columns(rows)
            if self._cols is None:
                self._cols = new
            else:
                old = self._cols
                self._cols = _Columns(
                    *(
                        np.concatenate([getattr(old, f), getattr(new, f)])
                        for f in old.__dataclass_fields__
                    )
                )
            self._max_id = int(rows.ids[-1])
            if self.approximate is not False and self.vectors.ivf is None:
                self.vectors.build_ivf()
            return len(rows.ids)

    def _ensure_vectors(self, rows: IndexRows) -> None:
        first: dict[str, int] = {}
        for job_id, h in zip(rows.ids.tolist(), rows.text_hash, strict=True):
            if h not in self.vectors.row_of:
                first.setdefault(h, job_id)
        if not first:
            return

        def fetch(hashes: list[str]) -> dict[str, str]:
            texts = self.store.texts_for([first[h] for h in hashes])
            return {h: texts[first[h]] for h in hashes}

        encoded = self.vectors.ensure(fetch, list(first), self._encode_passages)
        log.info("job search: %d new distinct texts encoded", encoded)

    def _encode_passages(self, texts: list[str]) -> np.ndarray:
        return np.asarray(self.embedder.encode_passages(texts), dtype=np.float32)

    def _columns(self, rows: IndexRows) -> _Columns:
        v = self._vocab
        return _Columns(
            ids=rows.ids,
            city=v["city"].encode(rows.city),
            district=v["district"].encode(rows.district),
            job_type=v["job_type"].encode(rows.job_type),
            employment=v["employment"].encode(rows.employment_type),
            salary=rows.salary_monthly_high,
            expires=rows.expires_day,
            posted=rows.posted_day,
            text_row=np.array([self.vectors.row_of[h] for h in rows.text_hash], dtype=np.int64),
        )

    @property
    def size(self) -> int:
        return 0 if self._cols is None else len(self._cols.ids)

    # -- writing --------------------------------------------------------------------------
    def add(self, job: Job) -> Job:
        """Store a posting and make it searchable at once."""
        stored = self.store.add(job)
        self.refresh()
        return stored

    # -- searching ------------------------------------------------------------------------
    def candidates(self, query: JobQuery, today: date | None = None) -> np.ndarray:
        """Positions of live postings that pass every structured filter in ``query``."""
        self.refresh()
        cols = self._cols
        assert cols is not None
        mask = cols.expires >= day_number(today or date.today())
        if query.city:
            mask &= cols.city == self._vocab["city"].get(query.city)
        if query.district:
            mask &= cols.district == self._vocab["district"].get(query.district)
        if query.job_types:
            codes = [self._vocab["job_type"].get(t) for t in query.job_types]
            mask &= np.isin(cols.job_type, codes)
        if query.employment_type:
            mask &= cols.employment == self._vocab["employment"].get(query.employment_type)
        if query.min_monthly_salary:
            # The posting can pay at least what was asked (top of its range, monthly).
            mask &= cols.salary >= np.float32(query.min_monthly_salary)
        return np.flatnonzero(mask)

    def rank(
        self,
        positions: np.ndarray,
        query_vector: np.ndarray,
        need: int,
        approximate: bool | None = None,
        nprobe: int | None = None,
    ) -> np.ndarray:
        """Order ``positions`` by semantic score (then salary, recency, id); at least ``need`` of them."""
        cols = self._cols
        assert cols is not None
        if len(positions) == 0:
            return positions
        text_rows = cols.text_row[positions]
        allowed = np.unique(text_rows)
        use_ann = self._use_ann(approximate, len(allowed))
        scores_by_row = np.full(len(self.vectors.hashes), -np.inf, dtype=np.float32)
        if not use_ann:
            rows, scores = self.vectors.search(query_vector, allowed, len(allowed))
            scores_by_row[rows] = scores
            order_positions = positions
        else:
            k = 32
            while True:
                rows, scores = self.vectors.search(
                    query_vector, allowed, k, approximate=True, nprobe=nprobe
                )
                scores_by_row[rows] = scores
                covered = np.isin(text_rows, rows)
                if covered.sum() >= need or k >= len(allowed):
                    break
                k *= 4
            order_positions = positions[covered]
        posting_scores = scores_by_row[cols.text_row[order_positions]]
        salary = np.nan_to_num(cols.salary[order_positions], nan=0.0)
        order = np.lexsort(
            (cols.ids[order_positions], -cols.posted[order_positions], -salary, -posting_scores)
        )
        ranked = order_positions[order]
        if use_ann and len(ranked) < len(positions):
            # Postings whose texts the approximate search did not reach come last, by recency.
            rest = np.setdiff1d(positions, ranked, assume_unique=True)
            rest = rest[np.lexsort((cols.ids[rest], -cols.posted[rest]))]
            ranked = np.concatenate([ranked, rest])
        return ranked

    def _use_ann(self, approximate: bool | None, distinct: int) -> bool:
        if self.vectors.ivf is None:
            return False
        if approximate is not None:
            return approximate
        if self.approximate is not None:
            return self.approximate
        return (
            distinct > 4 * 1024
        )  # exact scoring of a few thousand texts is already sub-millisecond

    def encode_query(self, text: str) -> np.ndarray:
        with self._lock:
            cached = self._query_cache.get(text)
            if cached is not None:
                self._query_cache.move_to_end(text)
                return cached
        vector = np.asarray(self.embedder.encode_queries([text]), dtype=np.float32)[0]
        with self._lock:
            self._query_cache[text] = vector
            if len(self._query_cache) > 512:
                self._query_cache.popitem(last=False)
        return vector

    def search(
        self,
        query: JobQuery,
        page: int = 1,
        page_size: int = PAGE_SIZE,
        today: date | None = None,
        relax: bool = True,
        approximate: bool | None = None,
    ) -> SearchResult:
        """One page of postings for ``query``, relaxing it in the stated order if nothing matches."""
        page = max(1, page)
        relaxed: list[str] = []
        effective = query
        positions = self.candidates(effective, today)
        if len(positions) == 0 and relax:
            for step in relaxation_steps(query):
                effective, message = step
                positions = self.candidates(effective, today)
                relaxed.append(message)
                if len(positions):
                    break
        if len(positions) == 0:
            return SearchResult((), 0, page, page_size, tuple(relaxed), effective)
        text = semantic_text(effective)
        need = page * page_size
        ranked = self.rank(positions, self.encode_query(text), need, approximate=approximate)
        page_positions = ranked[(page - 1) * page_size : need]
        assert self._cols is not None
        ids = [int(i) for i in self._cols.ids[page_positions]]
        found = self.store.get_many(ids)
        jobs = tuple(found[i] for i in ids if i in found)
        return SearchResult(jobs, int(len(positions)), page, page_size, tuple(relaxed), effective)


def semantic_text(query: JobQuery) -> str:
    """What the ranking embeds for a query: the worker's words, else the job types asked for."""
    parts = [query.text.strip()] if query.text.strip() else []
    if query.job_types and not any(t in query.text for t in query.job_types):
        parts.append(" ".join(query.job_types))
    if query.employment_type and query.employment_type not in query.text:
        parts.append(query.employment_type)
    return "；".join(parts) or "招聘"


def relaxation_steps(query: JobQuery) -> list[tuple[JobQuery, str]]:
    """Cumulative relaxations in the stated order: district→city, salary −10%, related job types,
    then any employment type; each with the sentence that tells the worker what changed."""
    steps: list[tuple[JobQuery, str]] = []
    current = query
    if current.district and current.city:
        current = replace(current, district=None)
        steps.append((current, f"{query.district}暂时没有合适的岗位，已扩大到{query.city}全市"))
    if current.min_monthly_salary:
        lower = round(current.min_monthly_salary * SALARY_RELAX, -1)
        current = replace(current, min_monthly_salary=lower)
        steps.append(
            (
                current,
                f"月薪要求从{current_yuan(query.min_monthly_salary)}元放宽到{current_yuan(lower)}元",
            )
        )
    if current.job_types:
        gazetteer = get_gazetteer()
        related = [
            r
            for t in current.job_types
            for r in gazetteer.related_job_types(t)
            if r not in current.job_types
        ]
        if related:
            related = list(dict.fromkeys(related))
            current = replace(current, job_types=current.job_types + tuple(related))
            steps.append((current, f"加入了相近的工种：{'、'.join(related)}"))
    if current.employment_type:
        emp = current.employment_type
        current = replace(current, employment_type=None)
        steps.append((current, f"{emp}岗位不多，已包括其他用工形式"))
    return steps


def current_yuan(value: float | None) -> str:
    return f"{int(round(value or 0))}"

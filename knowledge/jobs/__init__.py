"""Job postings: store (SQLite/PostgreSQL), feed importers, generator, and filtered semantic search."""

from __future__ import annotations

import threading

from knowledge.jobs.gazetteer import Gazetteer, UnknownPlace, get_gazetteer
from knowledge.jobs.importer import ImportReport, Mapping, RowRejected, import_file
from knowledge.jobs.models import Job, JobQuery, Place, Salary, SearchResult
from knowledge.jobs.parsing import SalaryParseError, parse_amount, parse_salary
from knowledge.jobs.search import PAGE_SIZE, JobSearch, relaxation_steps
from knowledge.jobs.store import JobStore, UpsertStats

__all__ = [
    "PAGE_SIZE",
    "Gazetteer",
    "ImportReport",
    "Job",
    "JobQuery",
    "JobSearch",
    "JobStore",
    "Mapping",
    "Place",
    "RowRejected",
    "Salary",
    "SalaryParseError",
    "SearchResult",
    "UnknownPlace",
    "UpsertStats",
    "get_gazetteer",
    "get_job_search",
    "set_job_search",
    "warm_up",
    "import_file",
    "parse_amount",
    "parse_salary",
    "relaxation_steps",
]

_search: JobSearch | None = None
_lock = threading.Lock()


def get_job_search() -> JobSearch:
    """The process-wide JobSearch built from settings (loaded on first use)."""
    global _search
    with _lock:
        if _search is None:
            _search = JobSearch.from_settings()
        return _search


def set_job_search(search: JobSearch | None) -> None:
    """Replace the process-wide JobSearch (tests, or an operator's custom wiring)."""
    global _search
    with _lock:
        _search = search


def warm_up() -> JobSearch:
    """Load the store, vectors and embedding model now, so the first worker's search is fast.

    Meant for a background thread at action-server start; safe to call more than once.
    """
    search = get_job_search()
    search.refresh()
    search.encode_query("找工作")
    return search

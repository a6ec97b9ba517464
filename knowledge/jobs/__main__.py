"""Command line for the job store: import feeds, generate postings, build the index, search.

python -m knowledge.jobs import ../shared/data/jobs/51job.csv --mapping 51job
python -m knowledge.jobs generate --n 20000 --seed 7
python -m knowledge.jobs build            # default dataset + vectors if missing
python -m knowledge.jobs search 杭州 仓储分拣 --salary 5000 --text 仓库的活
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import date

from knowledge.jobs import JobQuery, JobSearch, JobStore, get_gazetteer, import_file, parse_amount
from knowledge.jobs.generator import generate_into
from knowledge.logs import setup_logging
from knowledge.settings import get_settings

DEFAULT_POSTINGS = 20_000


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m knowledge.jobs", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--db", help="database URL (default: settings.jobs_db_url)")
    sub = parser.add_subparsers(dest="command", required=True)
    p_import = sub.add_parser("import", help="import a CSV/JSON feed with a field mapping")
    p_import.add_argument("file")
    p_import.add_argument(
        "--mapping", required=True, help="mapping name in knowledge/jobs/mappings or a YAML path"
    )
    p_gen = sub.add_parser("generate", help="generate realistic postings (seeded, reproducible)")
    p_gen.add_argument("--n", type=int, default=DEFAULT_POSTINGS)
    p_gen.add_argument("--seed", type=int, default=7)
    p_gen.add_argument(
        "--as-of",
        type=date.fromisoformat,
        default=None,
        help="posting dates relative to (YYYY-MM-DD)",
    )
    p_build = sub.add_parser(
        "build", help="generate the default dataset when the store is empty, then encode vectors"
    )
    p_build.add_argument("--n", type=int, default=DEFAULT_POSTINGS)
    p_search = sub.add_parser("search", help="search from the command line")
    p_search.add_argument("city")
    p_search.add_argument("job_type")
    p_search.add_argument("--district")
    p_search.add_argument("--salary")
    p_search.add_argument("--employment")
    p_search.add_argument("--text", default="")
    p_search.add_argument("--page", type=int, default=1)
    args = parser.parse_args(argv)

    settings = get_settings()
    setup_logging(settings.log_level)
    store = JobStore(args.db or settings.jobs_db_url)
    if args.command == "import":
        report = import_file(args.file, args.mapping, store)
        print(report.summary())
        for number, code, message in report.rejected[:50]:
            print(f"  第{number}行 [{code}] {message}")
        return 0
    if args.command == "generate":
        started = time.perf_counter()
        added = generate_into(store, args.n, seed=args.seed, as_of=args.as_of)
        print(
            f"生成 {args.n} 条，新增 {added} 条，共 {store.count()} 条，用时 {time.perf_counter() - started:.1f}s"
        )
        return 0
    if args.command == "build":
        if store.count() == 0:
            added = generate_into(store, args.n)
            print(f"已生成默认数据 {added} 条")
        started = time.perf_counter()
        search = JobSearch.from_settings(store=store)
        search.refresh()
        print(
            f"索引就绪：{search.size} 条岗位，{len(search.vectors.hashes)} 段不同文本，用时 {time.perf_counter() - started:.1f}s"
        )
        return 0
    if args.command == "search":
        gazetteer = get_gazetteer()
        city = gazetteer.normalize_city(args.city)
        job_type = gazetteer.normalize_job_type(args.job_type)
        if not city or not job_type:
            print(f"未知城市或工种：{args.city} {args.job_type}", file=sys.stderr)
            return 2
        query = JobQuery(
            city=city,
            district=gazetteer.normalize_district(city, args.district),
            job_types=(job_type,),
            min_monthly_salary=parse_amount(args.salary),
            employment_type=gazetteer.normalize_employment_type(args.employment),
            text=args.text,
        )
        result = JobSearch.from_settings(store=store).search(query, page=args.page)
        for message in result.relaxed:
            print(f"（{message}）")
        print(f"共 {result.total} 条，第 {result.page}/{result.pages} 页")
        for job in result.jobs:
            print(
                f"  [{job.id}] {job.title}｜{job.city}{job.district or ''}｜{job.salary_text}｜{job.employment_type}｜{job.company}"
            )
        return 0
    return 1


if __name__ == "__main__":
    sys.exit(main())

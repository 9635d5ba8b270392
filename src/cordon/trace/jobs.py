"""Tracing's background jobs on the general runner (``cordon.jobs``): one case from its page,
a batch of cases, assist letters, and the contact export.

Every step is safe to run again, so a job resumed after a crash finishes without duplicates:
a trace replaces the traced cases' contacts and facts, and a batch's checkpoint (the next
group) commits in the same transaction as the group's contacts.
"""

from __future__ import annotations

import zipfile
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from cordon.auth.schemas import Actor
from cordon.auth.service import require
from cordon.db import transaction
from cordon.errors import Problem, ValidationFailed
from cordon.jobs import service as jobs
from cordon.jobs.flows import JobContext
from cordon.jobs.schemas import JobOut
from cordon.protocols import packs
from cordon.trace import contacts, service
from cordon.trace.contacts import ContactFilter
from cordon.trace.duckdb_store import DuckDBStore
from cordon.web import i18n
from cordon.web.downloads import XLSX
from cordon.web.i18n import N_
from cordon.web.messages import export_words

CASE, BATCH, LETTERS, EXPORT = "trace.case", "trace.batch", "trace.letters", "trace.export"


def _check_run(actor: Actor, pack_name: str, lake: Path) -> None:
    require(actor, "trace:run")
    packs.load(pack_name)
    # Refuses a missing, empty or foreign lake before anything is queued; the scan mode does
    # not load the tracing kernels, which the worker loads (the request answers at once).
    DuckDBStore(lake, scan=True)


# --- One case, from its page -----------------------------------------------------------------


def start_case(
    *, session: Session, actor: Actor, case_id: int, pack_name: str, lake: Path
) -> JobOut:
    """Queue the trace of one case (answered at once; the page shows the job's progress)."""
    _check_run(actor, pack_name, lake)
    params = {"case_id": case_id, "pack": pack_name, "lake": str(lake)}
    return jobs.submit(
        session=session,
        actor=actor,
        kind=CASE,
        params=params,
        subject=f"case:{case_id}",
        total=3,
        message=N_("Queued"),
    )


def _run_case(ctx: JobContext) -> dict[str, Any]:
    case_id, pack_name = int(ctx.params["case_id"]), str(ctx.params["pack"])
    ctx.progress(0, 3, N_("Tracing contacts"))
    with transaction(ctx.factory) as session:

        def found(_contacts: int) -> None:
            # Reads (and their audit entries) commit first: SQLite has one writer, and the
            # report commits in its own short transaction.
            session.commit()
            ctx.progress(1, 3, N_("Storing contacts and facts"))

        traced = service.trace_case(
            session=session,
            actor=ctx.actor,
            case_id=case_id,
            lake=Path(ctx.params["lake"]),
            pack_name=pack_name,
            on_traced=found,
        )
    return {"counts": traced.counts, "case_id": case_id, "pack": pack_name}


# --- A batch of cases ------------------------------------------------------------------------


def start_batch(
    *, session: Session, actor: Actor, since: datetime, pack_name: str, lake: Path
) -> JobOut:
    """Check everything a run needs (pack, lake, cases) and queue the job."""
    _check_run(actor, pack_name, lake)
    case_ids = service.cases_since(session=session, actor=actor, since=since)
    params = {"since": since.isoformat(), "pack": pack_name, "lake": str(lake), "cases": case_ids}
    return jobs.submit(
        session=session,
        actor=actor,
        kind=BATCH,
        params=params,
        subject="batch",
        total=len(case_ids),
        message=N_("Queued"),
    )


def group_size(cases: int) -> int:
    """Cases traced together: up to ``BATCH_SIZE`` share their scans, but a short batch still
    moves its progress in about ten steps (one case at a time for ten cases or fewer)."""
    return max(1, min(service.BATCH_SIZE, cases // 10))


def _run_batch(ctx: JobContext) -> dict[str, Any]:
    case_ids = [int(c) for c in ctx.params["cases"]]
    start = int(ctx.checkpoint.get("next", 0))  # resumed: the groups before are stored
    ctx.progress(start, len(case_ids), N_("Tracing cases"))
    size = group_size(len(case_ids))
    for first in range(start, len(case_ids), size):
        group = case_ids[first : first + size]
        with transaction(ctx.factory) as session:
            service.trace_cases(
                session=session,
                actor=ctx.actor,
                case_ids=group,
                lake=Path(ctx.params["lake"]),
                pack_name=str(ctx.params["pack"]),
            )
            done = first + len(group)
            ctx.progress(
                done, len(case_ids), N_("Tracing cases"), checkpoint={"next": done}, session=session
            )
    with transaction(ctx.factory) as session:
        people = contacts.people_of_cases(session=session, case_ids=case_ids)
    return {"cases": len(case_ids), "contacts": people}


# --- Assist letters --------------------------------------------------------------------------


def start_letters(
    *, session: Session, actor: Actor, case_id: int, pack_name: str, lake: Path
) -> JobOut:
    _check_run(actor, pack_name, lake)
    return jobs.submit(
        session=session,
        actor=actor,
        kind=LETTERS,
        params={"case_id": case_id, "pack": pack_name, "lake": str(lake)},
        subject=f"case:{case_id}",
        total=2,
        message=N_("Queued"),
    )


def _run_letters(ctx: JobContext) -> dict[str, Any]:
    case_id, pack_name = int(ctx.params["case_id"]), str(ctx.params["pack"])
    lake = Path(ctx.params["lake"])
    ctx.progress(0, 2, N_("Tracing contacts"))
    # The trace is stored in its own transaction, its reads committed before it writes: the
    # one writer of SQLite is held for the store only, not for the trace and the letters.
    with transaction(ctx.factory) as session:
        traced = service.trace_case(
            session=session,
            actor=ctx.actor,
            case_id=case_id,
            lake=lake,
            pack_name=pack_name,
            on_traced=lambda _found: session.commit(),
        )
    with transaction(ctx.factory) as session:
        made = service.assist_letters(
            session=session,
            actor=ctx.actor,
            cipher=ctx.cipher,
            case_id=case_id,
            lake=lake,
            pack_name=pack_name,
            traced=traced,
        )
    if not made:
        raise ValidationFailed(
            "no contacts live outside your jurisdiction: no letters",
            problems=[Problem("case_id", "no contacts outside your jurisdiction")],
        )
    ctx.progress(1, 2, N_("Writing letters"))
    name = f"letters-case-{case_id}.zip"
    with zipfile.ZipFile(ctx.file(name), "w", zipfile.ZIP_DEFLATED) as archive:
        for letter in made:
            archive.writestr(f"协查函-病例{case_id}-{letter.division_code}.docx", letter.docx)
    return {
        "file": name,
        "download": name,
        "media_type": "application/zip",
        "letters": len(made),
        "people": sum(letter.people for letter in made),
    }


# --- The contact export ----------------------------------------------------------------------


def start_export(
    *, session: Session, actor: Actor, where: ContactFilter, language: str = "zh_CN"
) -> JobOut:
    """Queue a contact export, worded in ``language`` (the requester's)."""
    total = contacts.count(session=session, actor=actor, where=where)
    return jobs.submit(
        session=session,
        actor=actor,
        kind=EXPORT,
        params={"where": where.described(), "language": language},
        subject="contacts",
        total=total,
        message=N_("Queued"),
    )


def _run_export(ctx: JobContext) -> dict[str, Any]:
    from cordon.trace.pages import KIND_LABELS, SETTING_LABELS  # pages import this module

    where = ContactFilter(**ctx.params["where"])
    language = str(ctx.params.get("language", "zh_CN"))
    words = export_words(i18n.translations(language).gettext, KIND_LABELS, SETTING_LABELS)
    name = "contacts.xlsx"

    with transaction(ctx.factory) as session:

        def step(done: int, total: int) -> None:
            session.commit()  # the chunk's audit entries; SQLite has one writer
            ctx.progress(done, total, N_("Writing rows"))

        rows = contacts.write_xlsx(
            session=session,
            actor=ctx.actor,
            cipher=ctx.cipher,
            where=where,
            path=ctx.file(name),
            progress=step,
            shown=words,
        )
    return {"file": name, "download": name, "media_type": XLSX, "rows": rows}


for _kind in (
    jobs.Kind(CASE, "trace:run", _run_case, N_("Trace a case")),
    jobs.Kind(BATCH, "trace:run", _run_batch, N_("Trace cases in a batch")),
    jobs.Kind(LETTERS, "trace:run", _run_letters, N_("Assist letters")),
    jobs.Kind(EXPORT, "cases:view", _run_export, N_("Contact export")),
):
    jobs.register(_kind)

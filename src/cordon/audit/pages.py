"""Browsing the audit log (roles with ``audit:view``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from cordon.audit import service
from cordon.auth.schemas import Actor
from cordon.web.deps import DbSession
from cordon.web.forms import Pager
from cordon.web.i18n import N_
from cordon.web.nav import NavEntry
from cordon.web.page_deps import page_require
from cordon.web.templating import render

router = APIRouter(prefix="/audit", include_in_schema=False)
NAV = [NavEntry("/audit", N_("Audit"), "audit:view", order=90)]

Auditor = Annotated[Actor, Depends(page_require("audit:view"))]

PAGE_SIZE = 100
OUTCOMES = {"ok": N_("allowed"), "denied": N_("denied")}
# Known actions and entities get a translated name; others are shown as stored.
ACTIONS = {
    "view": N_("viewed"),
    "search": N_("searched"),
    "list": N_("listed"),
    "create": N_("created"),
    "update": N_("changed"),
    "import": N_("imported"),
    "seed": N_("generated"),
    "denied": N_("denied"),
    "assist_letter": N_("wrote assist letters"),
    "code_lookup": N_("looked up a health code"),
    "resident_lookup": N_("looked up screening results"),
    "dismiss": N_("dismissed"),
    "accept": N_("accepted"),
    "accepted": N_("accepted"),
    "dismissed": N_("dismissed"),
    "plan": N_("planned"),
    "receive": N_("received"),
    "recompute": N_("recomputed"),
    "record": N_("recorded"),
    "sample": N_("sampled"),
    "sample_batch": N_("sampled in a batch"),
    "task_done": N_("closed a task"),
    "whatif": N_("ran a what-if"),
    "trace": N_("traced"),
    "preview": N_("previewed the cost of"),
    "push": N_("pushed"),
    "screening": N_("sampled"),
    "retest": N_("retested"),
}
ENTITIES = {
    "person": N_("person"),
    "household": N_("household"),
    "user": N_("user"),
    "case": N_("case"),
    "case_transfer": N_("case transfer"),
    "contact_network": N_("transmission network"),
    "contacts": N_("contacts"),
    "contact_push": N_("contact list push"),
    "facts": N_("facts"),
    "health_code": N_("health code"),
    "health_codes": N_("health codes"),
    "screening_proposal": N_("case proposal"),
    "screening_results": N_("screening results"),
    "screening_round": N_("screening round"),
    "screening_samples": N_("swabs"),
    "screening_site": N_("sampling site"),
    "screening_tubes": N_("tubes"),
    "trajectory": N_("trajectory"),
    "treatment_plan": N_("treatment plan"),
}


@router.get("", response_class=HTMLResponse)
def browse(
    request: Request,
    actor: Auditor,
    session: DbSession,
    username: str = "",
    outcome: str = "",
    entity_id: str = "",
    page: int = 1,
) -> HTMLResponse:
    query = {
        "username": username.strip()[:64],
        "outcome": outcome if outcome in OUTCOMES else "",
        "entity_id": entity_id.strip()[:64],
    }
    pager = Pager.of(page, PAGE_SIZE)
    total, entries = service.browse(
        session=session,
        username=query["username"] or None,
        outcome=query["outcome"] or None,
        entity_id=query["entity_id"] or None,
        limit=pager.size,
        offset=pager.offset,
    )
    context = {
        "query": query,
        "entries": entries,
        "pager": pager.with_total(total),
        "outcomes": OUTCOMES,
        "actions": ACTIONS,
        "entities": ENTITIES,
    }
    return render(request, "audit/list.html", context)

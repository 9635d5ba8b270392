"""Fixed messages of the services that pages translate when they show them.

Services speak English and many of their messages carry values (codes, digits, row numbers);
those are shown as they are. The fixed ones are listed here so they are extracted into the
catalog; ``templating.translated_problems`` looks every message up when rendering.
"""

from __future__ import annotations

from cordon.web.i18n import N_

SERVICE_MESSAGES = (
    N_("must not be blank"),
    N_("already taken"),
    N_("already registered"),
    N_("column missing"),
    N_("this identity number cannot be registered here; search for the person"),
    N_("give a division code or a grid code"),
    N_("give e.g. 450681********1234"),
    N_("outside your jurisdiction"),
    N_("the file is empty"),
    N_("empty"),
    N_("no header row"),
    N_("use .xlsx or .csv"),
    N_("choose a file"),
    N_("please log in"),
    N_("missing or wrong CSRF token; reload the page and try again"),
    # Pydantic's, for a missing column value in an import row.
    N_("Field required"),
)

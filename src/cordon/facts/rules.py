"""The catalogue of fact kinds and their attributes, and the check every fact passes.

Pure data and functions: the health-code rule packs name these kinds and attributes, and the
catalogue is exported for a future rule-editor page.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from cordon.errors import Problem


@dataclass(frozen=True)
class Attribute:
    name: str
    kind: str  # "int" | "str" | "date" | "choice"
    required: bool
    choices: tuple[str, ...] = ()
    doc: str = ""


@dataclass(frozen=True)
class FactKind:
    name: str
    doc: str
    at_means: str
    attributes: tuple[Attribute, ...]


def _choice(name: str, choices: tuple[str, ...], doc: str, required: bool = True) -> Attribute:
    return Attribute(name, "choice", required, choices, doc)


CATALOGUE: dict[str, FactKind] = {
    k.name: k
    for k in (
        FactKind(
            "case",
            "The person is a case (or a suspected case, later confirmed or ruled out).",
            "when the case was reported",
            (
                _choice(
                    "status",
                    ("confirmed", "asymptomatic", "suspected", "ruled_out"),
                    "case status",
                ),
                Attribute("case_id", "int", False, doc="the case record, when there is one"),
            ),
        ),
        FactKind(
            "discharged",
            "The case left hospital; post-discharge health management starts.",
            "discharge time",
            (Attribute("case_id", "int", False),),
        ),
        FactKind(
            "contact",
            "The person was traced as a contact of a case, and the tier was pushed.",
            "first exposure",
            (
                _choice("contact_kind", ("close", "secondary", "companion"), "contact kind"),
                Attribute("case_id", "int", True, doc="the index case"),
                Attribute("pack", "str", False, doc="protocol pack the trace used"),
                Attribute("tier", "int", False, doc="priority tier of the trace (1 = highest)"),
                _choice(
                    "action",
                    ("central", "home", "notify"),
                    "what the pushed tier orders; absent: the edition's default for the kind",
                    required=False,
                ),
                Attribute("push_id", "int", False, doc="the commander's push that wrote it"),
            ),
        ),
        FactKind(
            "quarantine",
            "A quarantine or health-management order started.",
            "start of the order",
            (
                Attribute("order_id", "int", False),
                _choice("place", ("central", "home"), "where the person is held"),
                _choice(
                    "reason",
                    (
                        "close",
                        "secondary",
                        "companion",
                        "sealed_zone",
                        "inbound",
                        "high_risk_area",
                        "medium_risk_area",
                        "pool_positive",
                    ),
                    "why",
                    required=False,
                ),
            ),
        ),
        FactKind(
            "released",
            "A quarantine order ended.",
            "release time",
            (Attribute("order_id", "int", False),),
        ),
        FactKind(
            "test",
            "A nucleic-acid test result for the person.",
            "sampling time",
            (
                _choice("result", ("negative", "positive"), "result"),
                _choice("method", ("single", "pool"), "single tube or pooled tube"),
                Attribute("tube", "str", False, doc="tube barcode"),
                Attribute("round_id", "int", False, doc="screening round"),
                Attribute("lab", "str", False),
            ),
        ),
        FactKind(
            "pool_positive",
            "A pooled tube holding the person's swab was positive; a single-tube retest is due.",
            "sampling time of the pooled tube",
            (
                Attribute("tube", "str", True, doc="pooled tube barcode"),
                Attribute("round_id", "int", False),
            ),
        ),
        FactKind(
            "zone",
            "The person lives or stays in a risk zone.",
            "when the zone took effect (or the person entered it)",
            (
                Attribute("zone_id", "int", True),
                _choice(
                    "level",
                    ("sealed", "controlled", "precaution", "high", "medium", "low"),
                    "zone level",
                ),
            ),
        ),
        FactKind(
            "zone_lifted",
            "A zone the person was in was lifted (or the person left it legitimately).",
            "lifting time",
            (Attribute("zone_id", "int", True),),
        ),
        FactKind(
            "arrival",
            "The person arrived from elsewhere.",
            "arrival time",
            (
                _choice(
                    "origin",
                    (
                        "high_risk_area",
                        "medium_risk_area",
                        "same_county_as_risk_area",
                        "out_of_province",
                        "port",
                        "sea_contact",
                    ),
                    "where from",
                ),
                Attribute("region", "str", False, doc="division code or name of the origin"),
            ),
        ),
        FactKind(
            "platform_code",
            "The colour the national platform pushed for the person.",
            "when it was pushed",
            (_choice("colour", ("red", "yellow", "green"), "colour"),),
        ),
    )
}


def problems_in(kind: str, attrs: Mapping[str, object]) -> list[Problem]:
    """Everything wrong with one fact, each naming its field; empty when it is valid."""
    spec = CATALOGUE.get(kind)
    if spec is None:
        known = ", ".join(sorted(CATALOGUE))
        return [
            Problem(
                "kind",
                "unknown fact kind '%(kind)s'; known: %(known)s",
                params=dict(kind=kind, known=known),
            )
        ]
    found: list[Problem] = []
    known_attrs = {a.name: a for a in spec.attributes}
    for name in attrs:
        if name not in known_attrs:
            found.append(
                Problem(
                    f"attrs.{name}", "not an attribute of a %(kind)s fact", params=dict(kind=kind)
                )
            )
    for attr in spec.attributes:
        value = attrs.get(attr.name)
        field = f"attrs.{attr.name}"
        if value is None:
            if attr.required:
                found.append(Problem(field, "required"))
            continue
        if attr.kind == "choice" and value not in attr.choices:
            choices = ", ".join(attr.choices)
            found.append(Problem(field, "must be one of %(choices)s", params=dict(choices=choices)))
        elif attr.kind == "int" and (not isinstance(value, int) or isinstance(value, bool)):
            found.append(Problem(field, "must be a whole number"))
        elif attr.kind == "str" and not isinstance(value, str):
            found.append(Problem(field, "must be text"))
    return found


def catalogue_document() -> dict[str, object]:
    """The catalogue as plain data (JSON/YAML) for rule editors and docs."""
    return {
        k.name: {
            "doc": k.doc,
            "at": k.at_means,
            "attributes": {
                a.name: {
                    "type": a.kind,
                    "required": a.required,
                    **({"choices": list(a.choices)} if a.choices else {}),
                    **({"doc": a.doc} if a.doc else {}),
                }
                for a in k.attributes
            },
        }
        for k in CATALOGUE.values()
    }

"""A health-code rule pack written out as one plain SQL query, the peer of the batch evaluator.

The query reads a flat facts table (person_id, kind, t in epoch seconds, one text column per
attribute the pack names) and returns (person_id, colour) for everyone a rule holds, colour
coded 0 green, 1 yellow, 2 red, with the evaluator's semantics: each rule's phases are walked
from the anchoring fact's time with correlated subqueries; a phase's required tests are
covered when, for the k-th of m required days, at least m - k + 1 negative tests were sampled
since that day began (the greedy matching's closed form). The same text runs on DuckDB and
PostgreSQL.
"""

from __future__ import annotations

from cordon.codes.rules.model import DAY, SEVERITY, Pack, Phase


def _lit(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _condition(alias: str, kind: str, where: tuple[tuple[str, tuple[str, ...]], ...]) -> str:
    parts = [f"{alias}.kind = {_lit(kind)}"]
    parts += [
        f"{alias}.{name} IN ({', '.join(_lit(v) for v in allowed)})" for name, allowed in where
    ]
    return " AND ".join(parts)


def attributes(pack: Pack) -> list[str]:
    return sorted({name for names in pack.attributes_used().values() for name in names})


def _neg(alias: str, now: int, table: str) -> str:
    return (
        f"{table} {alias} WHERE {alias}.kind = 'test' AND {alias}.result = 'negative' "
        f"AND {alias}.t <= {now}"
    )


def _end(phase: Phase, j: int, now: int, table: str) -> str:
    start = f"x.s{j}"
    if phase.kind == "days":
        return f"{start} + {phase.days * DAY}"
    if phase.kind == "until" and phase.until is not None:
        same = "".join(f" AND g.{name} = x.{name}" for name in phase.until.same)
        return (
            f"(SELECT min(g.t) FROM {table} g WHERE g.person_id = x.person_id AND "
            f"{_condition('g', phase.until.fact, phase.until.where)} AND g.t > {start} "
            f"AND g.t <= {now}{same})"
        )
    gap, window = phase.min_hours_apart * 3600, phase.within_hours * 3600
    return (
        f"(SELECT min(n2.t) FROM {table} n1 JOIN {table} n2 ON n2.person_id = n1.person_id "
        f"AND n2.kind = 'test' AND n2.result = 'negative' AND n2.t <= {now} "
        f"AND n2.t >= n1.t + {gap} AND n2.t <= n1.t + {window} "
        f"WHERE n1.person_id = x.person_id AND n1.kind = 'test' AND n1.result = 'negative' "
        f"AND n1.t >= {start} AND n1.t <= {now})"
    )


def _missing(phase: Phase, j: int, now: int, table: str) -> str:
    m = len(phase.tests)
    checks = [
        f"(SELECT count(*) FROM {_neg('n', now, table)} AND n.person_id = x.person_id "
        f"AND n.t >= x.s{j} + {(day - 1) * DAY}) < {m - k}"
        for k, day in enumerate(phase.tests)
    ]
    return " OR ".join(checks) if checks else "FALSE"


def colour_query(pack: Pack, now: int, table: str = "facts_flat") -> str:
    # No shared CTE over the facts: PostgreSQL would materialise it and lose the index.
    ctes = []
    arms = []
    for i, rule in enumerate(pack.rules):
        same = sorted({n for p in rule.phases if p.until is not None for n in p.until.same})
        carried = "".join(f", a.{name}" for name in same)
        ctes.append(
            f"r{i}_0 AS (SELECT a.person_id, a.t AS s0{carried} FROM {table} a "
            f"WHERE {_condition('a', rule.fact, rule.where)} AND a.t <= {now})"
        )
        holds = []
        for j, phase in enumerate(rule.phases):
            missing = _missing(phase, j, now, table)
            end = _end(phase, j, now, table)
            extra = f", ({missing}) AS m{j}" if phase.kind == "days" else ""
            ctes.append(f"r{i}_{j + 1} AS (SELECT x.*, {end} AS s{j + 1}{extra} FROM r{i}_{j} x)")
            hold = f"({now} < s{j + 1} OR m{j})" if phase.kind == "days" else f"s{j + 1} IS NULL"
            holds.append(f"WHEN {hold} THEN {SEVERITY[phase.colour]}")
        arms.append(
            f"SELECT person_id, {rule.priority} AS priority, CASE {' '.join(holds)} END AS colour "
            f"FROM r{i}_{len(rule.phases)}"
        )
    held = " UNION ALL ".join(arms)
    return (
        f"WITH {', '.join(ctes)}, held AS ({held}) "
        "SELECT person_id, max(priority * 10 + colour) % 10 AS colour FROM held "
        "WHERE colour IS NOT NULL GROUP BY person_id"
    )

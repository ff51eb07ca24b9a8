"""A user's own rows in every table, found from the schema itself: for /mydata and /forgetme.

A row belongs to a user when its table has a `user_id` equal to theirs, a foreign key to
`users` pointing at them, or a foreign key to a row that belongs to them (a role-play turn
through its run, a team member through a team they own). Reading the schema rather than a
fixed list means a table added by a later migration is covered without changing this file.
"""

from __future__ import annotations

from typing import Any

from sqlite_utils import Database


def _tables(db: Database) -> list[str]:
    return [n for n in db.table_names() if not n.startswith(("sqlite_", "_"))]


def _conditions(db: Database) -> dict[str, str]:
    """table -> SQL condition (with :u for the user id) selecting the user's rows in it."""
    tables = _tables(db)
    keys = {name: db[name].foreign_keys for name in tables}
    found: dict[str, str] = {}

    def condition(name: str, seen: frozenset[str]) -> str | None:
        if name in found:
            return found[name]
        parts = ["id = :u"] if name == "users" else []
        if name != "users" and "user_id" in db[name].columns_dict:
            parts.append("user_id = :u")
        for fk in keys[name]:
            if fk.other_table == "users":
                parts.append(f"[{fk.column}] = :u")
            elif fk.other_table not in seen and fk.other_table in keys:
                parent = condition(fk.other_table, seen | {name})
                if parent is not None:
                    parts.append(
                        f"[{fk.column}] in (select [{fk.other_column}] from [{fk.other_table}] where {parent})"
                    )
        if not parts:
            return None
        found[name] = "(" + " or ".join(dict.fromkeys(parts)) + ")"
        return found[name]

    for name in tables:
        condition(name, frozenset({name}))
    return found


def _children_first(db: Database, names: list[str]) -> list[str]:
    """Delete order that never breaks a foreign key: rows pointing at a table go before it."""
    pointing: dict[str, list[str]] = {n: [] for n in names}
    for name in names:
        for fk in db[name].foreign_keys:
            if fk.other_table in pointing and fk.other_table != name:
                pointing[fk.other_table].append(name)
    order: list[str] = []

    def visit(name: str, path: frozenset[str]) -> None:
        if name in order or name in path:
            return
        for child in pointing[name]:
            visit(child, path | {name})
        order.append(name)

    for name in names:
        visit(name, frozenset())
    return order


def personal_data(db: Database, user_id: int) -> dict[str, list[dict[str, Any]]]:
    """Every row of the user's, by table (tables without any left out)."""
    out = {}
    for name, cond in _conditions(db).items():
        rows = list(db.query(f"select * from [{name}] where {cond}", {"u": user_id}))
        if rows:
            out[name] = rows
    return out


def forget(db: Database, user_id: int) -> int:
    """Inside a tx: delete every row of the user's, children first; the number of rows deleted."""
    conditions = _conditions(db)
    deleted = 0
    for name in _children_first(db, list(conditions)):
        deleted += db.execute(f"delete from [{name}] where {conditions[name]}", {"u": user_id}).rowcount
    return deleted

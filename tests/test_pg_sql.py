"""`db/pg_sql.py`: named parameters become PostgreSQL's `$n`, and nothing else does."""

from __future__ import annotations

import pytest

from instance.db.pg_sql import MissingParameter, NulInText, arguments, rewrite, typed


def _final(sql: str, params: dict[str, object]) -> tuple[str, list[object]]:
    text, names = rewrite(sql)
    values = arguments(names, params)
    return typed(text, values), values


def test_a_name_used_twice_is_one_parameter_cast_to_its_value() -> None:
    text, values = _final("SELECT * FROM t WHERE a = :x OR b = :y OR c = :x", {"x": 1, "y": "s"})
    assert text == "SELECT * FROM t WHERE a = $1::bigint OR b = $2::text OR c = $1::bigint"
    assert values == [1, "s"]


def test_casts_strings_quoted_names_and_comments_are_left_alone() -> None:
    sql = "SELECT a::text, ':no', \"x:y\" FROM t -- :nor\nWHERE /* :neither */ b = :yes"
    text, values = _final(sql, {"yes": 2})
    assert (
        text == "SELECT a::text, ':no', \"x:y\" FROM t -- :nor\nWHERE /* :neither */ b = $1::bigint"
    )
    assert values == [2]


def test_a_null_tested_none_is_typed_as_an_id() -> None:
    """`(:max_id IS NULL OR id < :max_id)` with None: PostgreSQL could not type it alone."""
    text, values = _final("SELECT 1 WHERE (:max_id IS NULL OR id < :max_id)", {"max_id": None})
    assert text == "SELECT 1 WHERE ($1::bigint IS NULL OR id < $1)"
    assert values == [None]


def test_bools_are_passed_as_the_integers_sqlite_stores() -> None:
    assert _final("UPDATE t SET f = :f", {"f": True}) == ("UPDATE t SET f = $1::bigint", [1])


def test_a_missing_parameter_is_named() -> None:
    with pytest.raises(MissingParameter, match="b"):
        _final("SELECT :a, :b", {"a": 1})


def test_text_with_a_nul_is_bad_input_not_a_server_error() -> None:
    """PostgreSQL cannot store U+0000: a 400 before the statement is sent."""
    with pytest.raises(NulInText) as caught:
        _final("SELECT 1 FROM tags WHERE name = :n", {"n": "a\x00b"})
    assert caught.value.status == 400

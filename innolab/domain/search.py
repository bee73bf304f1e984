"""Searching text in the database: what a person types is matched as text, never as a pattern.

`%`, `_` and the escape character itself are escaped, so "100%" finds "100%" and not
everything that starts with "100". Case is ignored the same way on SQLite and PostgreSQL
(SQLite gets a Unicode-aware `lower()`, see docs/development.md), and so is the German ß:
"STRASSENBLICK" finds "StraßenBlick", "Straße" finds "Strasse" (Swiss spelling, or a
keyboard without ß).
"""
from __future__ import annotations

import re
from typing import Any

import snowballstemmer  # type: ignore[import-untyped]
from sqlalchemy import (DDL, Integer, column, event, false, func, inspect, literal,
                        literal_column, or_, select, table, true)
from sqlalchemy.orm import Session

from ..extensions import db
from ..models import Authority, Challenge, Organisation, Proposal, Topic
from ..models.proposals import proposal_topics

ESCAPE = "\\"


def escape_like(text: str) -> str:
    """`text` with the LIKE wildcards escaped (use with escape=ESCAPE)."""
    return (text.replace(ESCAPE, ESCAPE * 2).replace("%", ESCAPE + "%")
            .replace("_", ESCAPE + "_"))


def fold(text: str) -> str:
    """`text` as searches compare it: lower case, ß as ss (ẞ lowers to ß first)."""
    return text.lower().replace("ß", "ss")


def folded(column):
    """The SQL of `fold` for a column: the same on SQLite and PostgreSQL."""
    return func.replace(func.lower(column), "ß", "ss")


def contains(column, text: str):
    """A condition: `column` contains `text`, whatever its case and however ß is written."""
    return folded(column).like(f"%{escape_like(fold(text))}%", escape=ESCAPE)


def starts_with(column, text: str):
    """A condition: `column` starts with `text` (case as given)."""
    return column.like(escape_like(text) + "%", escape=ESCAPE)


# ---------------------------------------------------------------- full-text search of proposals
#
# One search for the showcase's pilots and results, the API and the staff inbox. Each proposal
# keeps its search document in three text columns by weight (`search_a`: titles, `search_b`:
# public summaries, `search_c`: organisation, the challenge's authority, the topics in both
# languages), folded (lower case, ß as ss) and refreshed by the session hook below whenever one
# of its inputs changes. PostgreSQL computes a generated, GIN-indexed `search_vector` from them
# (German configuration, weights A/B/C); SQLite keeps the FTS5 table `proposal_search` (rowid =
# the proposal's id) with the same texts stemmed by Snowball's German stemmer.

MAX_QUERY = 500   # characters of a query that are read
MAX_TERMS = 12    # words of a query that are used
FTS_TABLE = "proposal_search"
FTS_WEIGHTS = (10.0, 4.0, 2.0)  # bm25 weights of the columns a, b, c (SQLite)
_WORD = re.compile(r"[^\W_]+")
_stemmer = snowballstemmer.stemmer("german")


def words(text: str | None) -> list[str]:
    """The words of `text`, folded: letters and digits only, anything else separates."""
    return _WORD.findall(fold(text or ""))


def stem(text: str | None) -> str:
    """`text` as SQLite's index holds it: its words, folded and stemmed (German)."""
    return " ".join(_stemmer.stemWords(words(text)))


def document(*, titles=(), summaries=(), others=()) -> tuple[str, str, str]:
    """The three weighted texts of a search document, folded."""
    def join(parts):
        return fold(" ".join(p for p in parts if p))
    return join(titles), join(summaries), join(others)


def proposal_document(p, session: Session | None = None) -> tuple[str, str, str]:
    org = p.organisation
    if org is None and p.organisation_id and session is not None:
        org = session.get(Organisation, p.organisation_id)
    challenge = p.challenge
    if challenge is None and p.challenge_id and session is not None:
        challenge = session.get(Challenge, p.challenge_id)
    authority = challenge.authority if challenge is not None else None
    topics = [name for t in p.topics for name in (t.name_de, t.name_en)]
    return document(titles=(p.title, p.title_en),
                    summaries=(p.public_summary, p.public_summary_en),
                    others=(org.name if org else None, authority.name if authority else None,
                            *topics))


def _dialect(session) -> str:
    return session.get_bind().dialect.name


def _tsquery(terms: list[str]):
    # Every term is letters and digits only, quoted all the same; the last one is a prefix.
    text = " & ".join(f"'{t}'" + (":*" if i == len(terms) - 1 else "")
                      for i, t in enumerate(terms))
    return func.to_tsquery("german", literal(text))


def _fts_query(terms: list[str]) -> str:
    stems = _stemmer.stemWords(terms)
    return " AND ".join(f'"{s}"' + ("*" if i == len(stems) - 1 else "")
                        for i, s in enumerate(stems))


_fts = table(FTS_TABLE, column("rowid", Integer))
_vector: Any = literal_column("proposals.search_vector")


def proposal_match(q: str | None):
    """`(condition, rank)` for proposals matching the query `q`: every word must occur (stemmed,
    German), the last also as the start of a word; `rank` (higher is better) is None without a
    query. A query of no words (only punctuation) matches nothing."""
    q = (q or "")[:MAX_QUERY].strip()
    if not q:
        return true(), None
    terms = words(q)[:MAX_TERMS]
    if not terms:
        return false(), None
    if _dialect(db.session) == "postgresql":
        tsq = _tsquery(terms)
        return _vector.op("@@")(tsq), func.ts_rank(_vector, tsq)
    match = literal_column(FTS_TABLE).op("MATCH")(literal(_fts_query(terms)))
    rank = (select(-func.bm25(literal_column(FTS_TABLE), *FTS_WEIGHTS))
            .select_from(_fts).where(match, _fts.c.rowid == Proposal.id).scalar_subquery())
    return Proposal.id.in_(select(_fts.c.rowid).where(match)), rank


def by_rank(rank) -> tuple:
    """The ORDER BY terms that put the best match first (none without a query)."""
    return () if rank is None else (rank.desc(),)


def proposal_match_or(q: str | None, *conditions):
    """`proposal_match`, also true where one of `conditions` holds (e.g. a reference's LIKE)."""
    match, rank = proposal_match(q)
    return or_(match, *conditions), rank


# ------------------------------------------------ keeping the documents current

def _affected(session: Session):
    """The proposals whose search document may have changed in this flush."""
    found: dict[int, object] = {}

    def add(p):
        found[id(p)] = p

    def changed(obj, *names):
        state = inspect(obj)
        return any(state.attrs[n].history.has_changes() for n in names)

    for obj in list(session.new) + list(session.dirty):
        if isinstance(obj, Proposal):
            add(obj)
        elif obj in session.new:
            continue
        elif isinstance(obj, Organisation) and changed(obj, "name"):
            for p in session.scalars(select(Proposal).where(Proposal.organisation_id == obj.id)):
                add(p)
        elif isinstance(obj, Challenge) and changed(obj, "authority_id", "authority"):
            for p in session.scalars(select(Proposal).where(Proposal.challenge_id == obj.id)):
                add(p)
        elif isinstance(obj, Authority) and changed(obj, "name"):
            for p in session.scalars(select(Proposal).join(Proposal.challenge)
                                     .where(Challenge.authority_id == obj.id)):
                add(p)
        elif isinstance(obj, Topic) and changed(obj, "name_de", "name_en"):
            for p in session.scalars(select(Proposal).join(
                    proposal_topics, proposal_topics.c.proposal_id == Proposal.id)
                    .where(proposal_topics.c.topic_id == obj.id)):
                add(p)
    return [p for p in found.values() if p not in session.deleted]


def refresh(p, session: Session | None = None) -> bool:
    """Set `p`'s search document from its inputs; True when it changed."""
    a, b, c = proposal_document(p, session)
    if (p.search_a, p.search_b, p.search_c) == (a, b, c):
        return False
    p.search_a, p.search_b, p.search_c = a, b, c
    return True


def _before_flush(session: Session, _context, _instances) -> None:
    pending = session.info.setdefault("search_pending", {})
    for p in _affected(session):
        if refresh(p, session) or p in session.new:
            pending[id(p)] = p


def _write_fts(connection, rows) -> None:
    for pid, a, b, c in rows:
        connection.exec_driver_sql(f"DELETE FROM {FTS_TABLE} WHERE rowid = ?", (pid,))
        connection.exec_driver_sql(
            f"INSERT INTO {FTS_TABLE} (rowid, a, b, c) VALUES (?, ?, ?, ?)",
            (pid, stem(a), stem(b), stem(c)))


def _after_flush(session: Session, _context) -> None:
    pending = session.info.pop("search_pending", None)
    if not pending or _dialect(session) != "sqlite":
        return
    _write_fts(session.connection(), [(p.id, p.search_a, p.search_b, p.search_c)
                                      for p in pending.values() if p.id is not None])


event.listen(Session, "before_flush", _before_flush)
event.listen(Session, "after_flush", _after_flush)


def reindex(session: Any) -> int:
    """Rebuild every proposal's search document (and SQLite's index); the number of rows."""
    proposals = list(session.scalars(select(Proposal)))
    for p in proposals:
        refresh(p, session)
    session.flush()
    if _dialect(session) == "sqlite":
        connection = session.connection()
        connection.exec_driver_sql(f"DELETE FROM {FTS_TABLE}")
        _write_fts(connection, [(p.id, p.search_a, p.search_b, p.search_c) for p in proposals])
    return len(proposals)


# ------------------------------------------------ the index's DDL (migration and create_all)

PG_VECTOR = ("setweight(to_tsvector('german', coalesce(search_a, '')), 'A') || "
             "setweight(to_tsvector('german', coalesce(search_b, '')), 'B') || "
             "setweight(to_tsvector('german', coalesce(search_c, '')), 'C')")
PG_DDL = (
    f"ALTER TABLE proposals ADD COLUMN search_vector tsvector "
    f"GENERATED ALWAYS AS ({PG_VECTOR}) STORED",
    "CREATE INDEX ix_proposals_search_vector ON proposals USING gin (search_vector)",
)
SQLITE_DDL = (
    f"CREATE VIRTUAL TABLE IF NOT EXISTS {FTS_TABLE} USING fts5(a, b, c)",
    f"CREATE TRIGGER IF NOT EXISTS proposals_search_delete AFTER DELETE ON proposals "
    f"BEGIN DELETE FROM {FTS_TABLE} WHERE rowid = old.id; END",
)


def install_ddl(proposals_table) -> None:
    """Create the index with the table under create_all (tests); migrations do it otherwise."""
    for sql in PG_DDL:
        event.listen(proposals_table, "after_create", DDL(sql).execute_if(dialect="postgresql"))
    for sql in SQLITE_DDL:
        event.listen(proposals_table, "after_create", DDL(sql).execute_if(dialect="sqlite"))
    event.listen(proposals_table, "after_drop",
                 DDL(f"DROP TABLE IF EXISTS {FTS_TABLE}").execute_if(dialect="sqlite"))


install_ddl(Proposal.__table__)


def include_name(name, type_, _parents) -> bool:
    """For Alembic's comparison: the index lives outside the models (FTS5 tables, the vector)."""
    if type_ == "table":
        return not (name or "").startswith(FTS_TABLE)
    return name not in ("search_vector", "ix_proposals_search_vector")

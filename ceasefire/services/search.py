"""Searching participants by name and alias: the one search function of every list that takes `q`.

The meaning is the substring match the lists always had: `q` (trimmed, any case) is part of "first last" or of the
aliases, compared as lower(name) LIKE '%q%'. Indexes serve it (ceasefire.models.people), each holding the names
lowered by the database's lower() (on SQLite the one the app defines on each connection, which lowers every letter
as PostgreSQL's does: ceasefire.unicode_lower), so that an index's answer is that match exactly, with nothing to
check again: on SQLite two FTS5 tables (trigrams for a `q` of three letters or more, the one- and two-letter pieces
for shorter ones), on PostgreSQL trigram GIN indexes and a GIN index on the pieces.

How many match: a `q` of at most GRAM_MAX letters is counted off the kept rows of its piece, one a state
(ceasefire.models.search_counts), and so is everyone (the empty piece's rows); a longer one off the index, or, for
the list of everyone (or of one state), by name off the kept counts of the names that hold it (else the postings
of its rarest three-letter piece, whose key holds the names), and off the search index for those whose aliases
alone match (_posted_matches).

A page of a search is found one of three ways:
- posted: for the list of everyone (or of one state) and a `q` of two or three letters, the postings of `q` (each
  participant's pieces of two and three letters with their name and state, ceasefire.models.search_counts) are
  read off their primary key in the list's order and joined to the participants by id: only about a page of rows
  is read. A longer `q` reads the postings of its rarest three-letter piece the same way, each row compared with
  `q`, when at least one in DENSE of them matches (by the kept counts for four letters, else by its count);
- walked: the list walks the name index and compares each row with LIKE, stopping at the end of the page (many
  matches: at least one in DENSE);
- sorted: the index gives the matches' ids, and their rows are sorted by name (every match is read). On PostgreSQL
  the list of everyone (or of one state) finds and sorts them off a narrow copy of the names
  (ceasefire.models.participant_names).
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from ceasefire.extensions import db
from ceasefire.models import Participant
from ceasefire.models.enums import State
from ceasefire.models.participant_names import NAMES
from ceasefire.models.search_counts import GRAM_MAX, POSTED, SearchGramCount, SearchNameCount, SearchPosting

# Written into the SQL, not bound, so that PostgreSQL sees the indexed expression itself.
SPACE: sa.ColumnElement[str] = sa.literal_column("' '")
# "first last", as the search compares it (lowered) and the indexes hold it.
FULL_NAME = Participant.first_name.concat(SPACE).concat(Participant.last_name)
# A page is walked down the name order when at least one person in DENSE matches: the matches cluster in the name
# order (a name is shared by many), so a sparser walk may read a good part of the list before the page is found.
DENSE = 10


def needle(q: str) -> str:
    return q.strip().lower()


def _dialect() -> str:
    return db.session.get_bind().dialect.name


def _pattern(q: str) -> str:
    escaped = needle(q).replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _like(q: str) -> sa.ColumnElement[bool]:
    """The match itself, row by row: what every index below answers alike."""
    if not needle(q):
        return sa.true()
    like = _pattern(q)
    return sa.or_(
        sa.func.lower(FULL_NAME).like(like, escape="\\"),
        sa.func.lower(Participant.aliases).like(like, escape="\\"),
    )


def _narrow(q: str) -> bool:
    """Whether the whole list's search of `q` reads the narrow copy of the names (ceasefire.models.participant_names):
    on PostgreSQL, for a `q` of three letters or more (its trigram indexes serve those)."""
    return _dialect() == "postgresql" and len(needle(q)) >= 3


def _names_like(q: str) -> sa.ColumnElement[bool]:
    """The match on the narrow copy of the names, served by its trigram indexes."""
    like = _pattern(q)
    return sa.or_(NAMES.c.name.like(like, escape="\\"), NAMES.c.aliases.like(like, escape="\\"))


def names(q: str, state: str | None = None) -> sa.Select | None:
    """For the list of everyone (or of one `state`) searched by `q`: the id, state and names of those who match,
    off the narrow copy of the names alone (purged participants have no row there); None where there is none
    (SQLite, a `q` of one or two letters)."""
    if not _narrow(q):
        return None
    query = sa.select(NAMES.c.id, NAMES.c.state, NAMES.c.last_name, NAMES.c.first_name).where(_names_like(q))
    return query.where(NAMES.c.state == state) if state else query


def _long(q: str) -> bool:
    """Whether `q` is longer than the kept counts' pieces (GRAM_MAX) and holds a three-letter piece a person may
    hold: then its matches among everyone (or one state) are counted off that piece's postings (_posted_matches)."""
    key = needle(q)
    return len(key) > GRAM_MAX and bool(_walkable(key))


def _posted_matches(q: str, state: str | None = None) -> sa.Subquery:
    """How many of everyone (or of one `state`) match a long `q` (_long), as rows of a state and a number (n) to
    sum. While the counts of names are kept (ceasefire.models.search_counts.SearchNameCount), those whose name holds
    `q` are summed off the names that do (as many rows as distinct names, not people; a trigram index finds them on
    PostgreSQL, SQLite compares them all), and those whose aliases alone hold it are read off the search index (the
    narrow copy of the names on PostgreSQL, the FTS5 table on SQLite). Else one of
    two ways, both written into one statement, the kept counts choosing (a condition the database checks once,
    before reading; on SQLite, for a branch that reads the FTS5 tables, as its LIMIT: _gate):
    - when `q` may be common (its rarest four-letter piece is held by at least one in DENSE of the holders of its
      rarest three-letter piece): by their name off the postings of that three-letter piece alone (the key holds
      the names: an index-only scan, where the search index read each match's row), and by their aliases alone off
      the search index (the narrow copy of the names on PostgreSQL, the FTS5 table on SQLite). Each match holds
      every piece of `q`, so any piece finds them: the rarest reads the fewest postings;
    - else (few can match, none when a four-letter piece of `q` is held by no one) off the search index, as a
      shorter list of candidates.
    Only while the counts, and with them the postings, are kept."""
    key = needle(q)
    held = sa.select(SearchGramCount.gram, sa.func.sum(SearchGramCount.participants).label("n")) \
        .group_by(SearchGramCount.gram).having(sa.func.sum(SearchGramCount.participants) > 0)
    threes = held.where(SearchGramCount.gram.in_(_walkable(key))).subquery()
    rarest = sa.select(threes.c.gram).order_by(threes.c.n, threes.c.gram).limit(1).scalar_subquery()
    fours = _walkable(key, GRAM_MAX)
    posted: sa.ColumnElement[bool] = sa.true()
    if fours:  # the fewest who can match: the holders of the rarest four-letter piece (0 when one is held by none)
        found = held.where(SearchGramCount.gram.in_(fours)).subquery()
        bound = sa.select(sa.case((sa.func.count() < len(fours), 0), else_=sa.func.min(found.c.n))).scalar_subquery()
        posted = bound * DENSE >= sa.select(sa.func.coalesce(sa.func.min(threes.c.n), 0)).scalar_subquery()
    pg = _dialect() == "postgresql"
    # While the names' counts are kept, they count those whose name holds `q` (by_names) instead: a row a distinct
    # name and state (6,306 at 150,000), where the postings compared every match (4,183 for `q=johnson`).
    tallied = sa.select(SearchNameCount.name).where(SearchNameCount.name == "").exists()
    posted = sa.and_(posted, sa.not_(tallied))
    find = sa.func.strpos if pg else sa.func.instr
    name = sa.func.lower(SearchPosting.first_name.concat(SPACE).concat(SearchPosting.last_name))
    one: sa.Label[int] = sa.literal_column("1").label("n")
    by_name = sa.select(SearchPosting.state.label("state"), one) \
        .where(posted, SearchPosting.gram == rarest, find(name, key) > 0)
    like = _pattern(q)
    by_names = sa.select(SearchNameCount.state.label("state"), SearchNameCount.participants.label("n")) \
        .where(tallied, SearchNameCount.name.like(like, escape="\\"))
    selects = [by_names.where(SearchNameCount.state == state) if state else by_names]
    if pg:
        by_aliases = sa.select(NAMES.c.state.label("state"), one).where(
            sa.or_(posted, tallied), NAMES.c.aliases.like(like, escape="\\"),
            sa.not_(NAMES.c.name.like(like, escape="\\")),
        )
        by_index = sa.select(NAMES.c.state.label("state"), one) \
            .where(sa.not_(posted), sa.not_(tallied), _names_like(q))
        index_state: Any = NAMES.c.state
    else:  # the FTS5 table's aliases column, its name column (lowered) not holding `q`
        fts = sa.table("participant_names", sa.column("rowid"), sa.column("name"))
        phrase = 'aliases : "' + key.replace('"', '""') + '"'
        alias_ids = sa.select(fts.c.rowid).where(
            sa.text("participant_names MATCH :aliases_phrase").bindparams(aliases_phrase=phrase),
            sa.func.instr(fts.c.name, key) == 0,
        ).limit(_gate(sa.or_(posted, tallied)))
        by_aliases = sa.select(Participant.state.label("state"), one).where(Participant.id.in_(alias_ids))
        by_index = sa.select(Participant.state.label("state"), one) \
            .where(Participant.id.in_(_sqlite_ids(q).limit(_gate(sa.and_(sa.not_(posted), sa.not_(tallied))))))
        index_state = Participant.state
    if state:
        by_name = by_name.where(SearchPosting.state == state)
        by_aliases = by_aliases.where(index_state == state)
        by_index = by_index.where(index_state == state)
    return sa.union_all(*selects, by_name, by_aliases, by_index).subquery()


def _gate(condition: sa.ColumnElement[bool]) -> sa.ColumnElement[int]:
    """A LIMIT that lets a search of the FTS5 tables run only where `condition` holds: SQLite tests a condition of
    the whole statement (the kept counts' choice) row by row after its index has found them, so that a branch not
    taken still read every match (4,183 for `q=johnson` at 150,000: 14 ms), where a LIMIT of 0 reads nothing."""
    return sa.case((condition, -1), else_=0)


def tabs(q: str) -> dict[State, int] | None:
    """How many of everyone match `q` in each state (the list page's tabs) for a long `q` (_long), in one
    statement, which reads the kept counts of its pieces too, which decide how its page is read (for_page); when
    the counts are found not kept (and so the postings), off the narrow copy of the names on PostgreSQL. None for
    any other `q`, or on SQLite when nothing is kept."""
    if not _long(q):
        return None
    key = needle(q)
    rows = db.session.execute(sa.union_all(_by_state(_posted_matches(q)), _kept_rows(key))).all()
    _keep_rows(key, [row for row in rows if row[0] is not None])
    if _rows(q) is None:
        narrow = names(q)
        if narrow is None:
            return None
        rows = db.session.execute(_by_state(narrow.subquery())).all()
    counted = {state: n for gram, state, n in rows if gram is None}
    return {state: counted.get(state, 0) for state in State}


def _by_state(matches: sa.Subquery) -> sa.Select:
    """How many of `matches` are in each state: their rows, or the sum of their numbers (n) where they have them."""
    n = sa.func.sum(matches.c.n) if "n" in matches.c else sa.func.count()
    return sa.select(sa.null(), matches.c.state, n).group_by(matches.c.state)


def _sqlite_ids(q: str) -> sa.Select[tuple[int]]:
    """The ids of the participants that match, off the FTS5 tables alone."""
    text = needle(q)
    if len(text) >= 3:
        table, phrase = "participant_names", '"' + text.replace('"', '""') + '"'
    else:  # the piece as the hex word the table holds (hex() of its UTF-8, as SQLite writes it)
        table, phrase = "participant_grams", '"' + text.encode().hex().upper() + '"'
    return sa.select(sa.literal_column("rowid")).select_from(sa.table(table)).where(
        sa.text(f"{table} MATCH :phrase").bindparams(phrase=phrase)
    )


def _indexed(q: str) -> sa.ColumnElement[bool]:
    """The match as the index answers it: the matches found without reading anyone else's row."""
    dialect, text = _dialect(), needle(q)
    if not text:
        return sa.true()  # as LIKE '%%'
    if dialect == "sqlite":
        return Participant.id.in_(_sqlite_ids(q))
    if dialect == "postgresql" and len(text) < 3:
        grams = sa.func.participant_name_grams(
            sa.func.lower(FULL_NAME),
            sa.func.lower(Participant.aliases),
            type_=postgresql.ARRAY(sa.Text),
        )
        return grams.contains(sa.cast(postgresql.array([text]), postgresql.ARRAY(sa.Text)))
    return _like(q)  # PostgreSQL's trigram indexes serve LIKE itself


def row_matches(q: str) -> sa.ColumnElement[bool]:
    """The same condition tested on each row, no index: for rows another index has already bounded (a forum's
    roster, a few dozen), where finding every match in the program first (thousands for `jon` at 150,000) costs
    more than testing the roster's own rows."""
    return _like(q)


def name_matches(q: str) -> sa.ColumnElement[bool]:
    """A condition on Participant: its name or aliases contain `q`, whatever the case; for counting and filtering
    (the index finds the matches)."""
    return _indexed(q)


def _walkable(key: str, n: int = max(POSTED)) -> list[str]:
    """The pieces of `n` letters (the posted length, three, unless given) of a longer `q` that a person may hold
    (none starts or ends with a space): each of its matches holds them all."""
    if len(key) <= n:
        return []
    return sorted({key[i:i + n] for i in range(len(key) - n + 1) if key[i] != " " and key[i + n - 1] != " "})


def _kept_rows(key: str) -> sa.Select:
    """The kept counts that _rows reads: of the piece `key`, its three-letter pieces and everyone."""
    grams = ["", key, *_walkable(key)]
    return sa.select(SearchGramCount.gram, SearchGramCount.state, SearchGramCount.participants) \
        .where(SearchGramCount.gram.in_(grams))


def _keep_rows(key: str, rows: list[Any]) -> None:
    """Keeps the rows of _kept_rows(key) for the rest of the session's transaction, by piece and state; None when
    they are not kept (the empty piece's rows missing)."""
    found: dict[str, dict[State, int]] = {gram: dict.fromkeys(State, 0) for gram in ["", key, *_walkable(key)]}
    for gram, state, n in rows:
        found[gram][State(state)] = n
    kept_rows = len([1 for gram, _state, _n in rows if gram == ""]) == len(State)
    db.session.info.setdefault("search_kept", {})[key] = found if kept_rows else None


def _rows(q: str) -> dict[str, dict[State, int]] | None:
    """The kept counts of the piece `q`, of its three-letter pieces (_walkable) and of everyone (the empty piece),
    one a state, in one statement kept for the rest of the session's transaction; None when they are not kept (the
    empty piece's rows missing)."""
    key = needle(q)
    cache = db.session.info.setdefault("search_kept", {})
    if key not in cache:
        _keep_rows(key, list(db.session.execute(_kept_rows(key)).all()))
    return db.session.info["search_kept"][key]


def kept(q: str) -> dict[State, tuple[int, int]] | None:
    """How many participants match in each state, and how many there are in it, off the kept rows of the piece `q`
    (ceasefire.models.search_counts), in one statement kept for the rest of the session's transaction; None for a
    `q` longer than GRAM_MAX letters, or when the rows are not kept."""
    key = needle(q)
    if not key or len(key) > GRAM_MAX:
        return None
    rows = _rows(q)
    if rows is None:
        return None
    return {s: (rows[key][s], rows[""][s]) for s in State}


def posted(q: str) -> str | None:
    """The piece whose postings a page of `q` reads in the list's order: `q` itself when it has two or three
    letters (POSTED: every posting matches); None for any other `q`, or when the counts are not kept. (A longer `q`
    read off its rarest piece's postings, each compared with LIKE, was planned by PostgreSQL as the trigram index's
    matches sorted, or worse, a scan: its page is walked or sorted as before.)"""
    key = needle(q)
    if len(key) not in POSTED or _rows(q) is None:
        return None
    return key


def _walked(q: str, state: str | None, matches: int | None = None) -> str | None:
    """For a `q` of four letters or more: its rarest three-letter piece (_walkable), when at least one in DENSE of
    the people who hold it (in `state`, if given) match `q`: a page then walks that piece's postings in the list's
    order, each compared with `q`, and finds its rows within some DENSE times a page of postings. How many match is
    read off the kept counts for a `q` of GRAM_MAX letters; a longer one's `matches` are counted by the caller (None:
    not counted). None otherwise (the matches are sorted), or when the counts are not kept."""
    key = needle(q)
    pieces = _walkable(key)
    if not pieces or (state and state not in {s.value for s in State}):
        return None
    rows = _rows(q)
    if rows is None:
        return None

    def held(gram: str) -> int:
        return rows[gram][State(state)] if state else sum(rows[gram].values())

    if len(key) <= GRAM_MAX:
        matches = held(key)
    if matches is None:
        return None
    piece = min(pieces, key=held)
    return piece if matches * DENSE >= held(piece) else None


def _contains(q: str) -> sa.ColumnElement[bool]:
    """The match as a plain test of each row, which no index serves (strpos, instr): a page that walks postings is
    then planned as that walk, where a LIKE would be planned off the trigram index, every match read and sorted."""
    text = needle(q)
    find = sa.func.strpos if _dialect() == "postgresql" else sa.func.instr
    return sa.or_(find(sa.func.lower(FULL_NAME), text) > 0, find(sa.func.lower(Participant.aliases), text) > 0)


def kept_within(q: str, state: str | None = None) -> tuple[int, int] | None:
    """How many match (in one state, if given) and how many there are (in it), off the kept rows; None when not
    kept (see kept)."""
    rows = kept(q)
    if rows is None:
        return None
    if state:
        return rows.get(State(state), (0, 0)) if state in {s.value for s in State} else (0, 0)
    return sum(m for m, _ in rows.values()), sum(n for _, n in rows.values())


def _counted(q: str) -> tuple[int, int]:
    """How many participants match, and how many there are: off the kept rows for a short `q`; else off the search
    index alone (on SQLite the FTS5 tables, on PostgreSQL the narrow copy of the names: not a row of participants)
    with the highest id (how many there are, near enough), in one statement, kept for the rest of the session's
    transaction. A purged participant is never counted: the purge erases the names and aliases, and an empty name
    holds no `q` (and the narrow copy has no row for them)."""
    found = kept_within(q)
    if found is not None:
        return found
    return _counted_within(q)


def _counted_within(q: str, state: str | None = None) -> tuple[int, int]:
    cache = db.session.info.setdefault("search_counts", {})
    key = (needle(q), state)
    if key not in cache:
        if _long(q) and _rows(q) is not None:
            found_n = sa.select(sa.func.sum(_posted_matches(q, state).c.n)).scalar_subquery()
        elif (narrow := names(q, state)) is not None:
            found_n = sa.select(sa.func.count()).select_from(narrow.subquery()).scalar_subquery()
        elif _dialect() == "sqlite":  # (never with a state: see count_in_state)
            found_n = sa.select(sa.func.count()).select_from(_sqlite_ids(q).subquery()).scalar_subquery()
        else:
            found_n = sa.select(sa.func.count()).select_from(Participant).where(_indexed(q)).scalar_subquery()
        everyone = sa.select(sa.func.max(Participant.id)).scalar_subquery()
        row = db.session.execute(sa.select(found_n, everyone)).one()
        cache[key] = (row[0] or 0, row[1] or 0)
    return cache[key]


def count_in_state(q: str, state: str) -> tuple[int, int] | None:
    """How many participants match in one state, and the highest id, in one statement kept for the rest of the
    session's transaction: off the postings for a long `q` (_long) while they are kept, else off the narrow copy of
    the names; None where there is neither (SQLite, a shorter `q`)."""
    return _counted_within(q, state) if _narrow(q) or (_long(q) and _rows(q) is not None) else None


def count_within(q: str, query: sa.Select) -> tuple[int, int]:
    """How many participants that match are in `query` (a list's scope and other filters, over Participant), and
    the highest id, in one statement: the list's total, and what the page's choice of walking or sorting needs
    (for_page's `found`). The database meets the filter's index and the search's (a state and a name: the matches
    in that state alone are read), where counting every match first read them all."""
    matches = query.where(_indexed(q)).with_only_columns(Participant.id).order_by(None).subquery()
    within = sa.select(sa.func.count()).select_from(matches).scalar_subquery()
    everyone = sa.select(sa.func.max(Participant.id)).scalar_subquery()
    row = db.session.execute(sa.select(within, everyone)).one()
    return row[0] or 0, row[1] or 0


def count(q: str) -> int:
    """How many participants match (see _counted)."""
    return _counted(q)[0]


def walks(found: tuple[int, int]) -> bool:
    """Whether a page of a search that `found` (matches, everyone) is walked down the name order rather than sorted
    from the matches (see DENSE)."""
    matches, everyone = found
    return matches * DENSE >= everyone


def dense(q: str) -> bool:
    """Whether a page of `q` is walked down the name order (see walks)."""
    return walks(_counted(q))


def for_page(q: str, decide: bool = True, found: tuple[int, int] | None = None, state: str | None = None,
             broad: bool = False, matches: int | None = None) -> tuple[sa.ColumnElement[bool], list[Any]]:
    """The condition and the order of a page of the list searched by `q`, in the order by name then id, one of
    three ways:
    - `broad` (the list of everyone, or of one `state`) and a `q` of two or three letters (POSTED): read off its
      postings (posted) in that order, joined to the participants by id; of four letters or more, off the
      postings of its rarest three-letter piece, each compared with `q`, when at least one in DENSE of them matches
      (_walked; a longer `q`'s `matches` within the list, or `found`, counted already by the caller);
    - walked down the name index, each row compared (many matches: walks);
    - sorted from the index's matches (few); for a broad list on PostgreSQL, off the narrow copy of the names.
    `found`: the matches within the list's filters and how many there are (kept_within, count_within), counted
    already, decide walking; else without `decide` (the list page, whose tabs have counted the matches already)
    the matches are sorted, to spend no statement on counting them again."""
    piece = posted(q) if broad else None
    condition: sa.ColumnElement[bool] = sa.true()
    if broad and piece is None:  # four letters or more: the postings of its rarest piece, each compared
        if matches is None and found is not None:
            matches = found[0]
        elif matches is None and decide and not state and _long(q):
            matches = _counted(q)[0]
        piece = _walked(q, state, matches)
        if piece is not None:
            condition = _contains(q)
    if piece is not None:
        condition = sa.and_(SearchPosting.gram == piece, SearchPosting.participant_id == Participant.id, condition)
        if state:
            condition = sa.and_(condition, SearchPosting.state == state)
        return condition, [SearchPosting.last_name, SearchPosting.first_name, SearchPosting.participant_id]
    walk = walks(found) if found is not None else decide and dense(q)
    if not needle(q) or walk:
        return _like(q), [Participant.last_name, Participant.first_name, Participant.id]
    if broad and _narrow(q):  # the matches sorted off the narrow copy of the names, joined by id
        condition = sa.and_(NAMES.c.id == Participant.id, _names_like(q))
        if state:
            condition = sa.and_(condition, NAMES.c.state == state)
        return condition, [NAMES.c.last_name, NAMES.c.first_name, NAMES.c.id]
    # The same order, but no index's: the matches are sorted, the name index is not walked.
    last = Participant.last_name.concat(sa.literal_column("''"))
    return _indexed(q), [last, Participant.first_name, Participant.id]


def _forget_counts(session: Any, *_args: Any) -> None:
    session.info.pop("search_counts", None)
    session.info.pop("search_kept", None)


# A count is kept for the rest of the session's transaction, and forgotten once anything is written.
sa.event.listen(sa.orm.Session, "after_flush", _forget_counts)
sa.event.listen(sa.orm.Session, "after_transaction_end", _forget_counts)

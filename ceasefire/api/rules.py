"""The string rules of the API's shapes as regular expressions, each both the validator and what the OpenAPI
document says, so the two cannot disagree.

Written in the subset that Python, Rust (pydantic-core) and ECMA-262 (JSON Schema) read alike: character classes,
groups, alternation, counted repeats; no \\d, \\s or lookaround, whose meaning differs between them.
"""

from __future__ import annotations

# The characters str.strip() removes (str.isspace), spelled out: a required string needs one character besides them.
WHITESPACE = r"\t-\r\x1c-\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"

NUL_FREE = r"^[^\x00]*$"  # PostgreSQL cannot store NUL in text
NOT_BLANK = rf"^[^\x00]*[^\x00{WHITESPACE}][^\x00]*$"

# An address with something before its last @, and a dot inside what follows it; no whitespace, no NUL.
_LOCAL = rf"[^\x00{WHITESPACE}]+"
_DOMAIN_CHAR = rf"[^\x00{WHITESPACE}@]"
_DOMAIN_EDGE = rf"[^\x00{WHITESPACE}@.]"
_EMAIL = rf"{_LOCAL}@{_DOMAIN_CHAR}*{_DOMAIN_EDGE}{_DOMAIN_CHAR}*\.{_DOMAIN_CHAR}*{_DOMAIN_EDGE}{_DOMAIN_CHAR}*"
EMAIL = rf"^{_EMAIL}$"
EMAIL_OR_EMPTY = rf"^(?:{_EMAIL})?$"


def _alt(*parts: str) -> str:
    return "(?:" + "|".join(parts) + ")"


_DAYS = {31: "(?:0[1-9]|[12][0-9]|3[01])", 30: "(?:0[1-9]|[12][0-9]|30)", 28: "(?:0[1-9]|1[0-9]|2[0-8])"}
_MONTH_DAYS = {
    "01": 31, "02": 28, "03": 31, "04": 30, "05": 31, "06": 30, "07": 31, "08": 31, "09": 30, "10": 31, "11": 30,
    "12": 31,
}


def _month_day(without: str | None = None) -> str:
    """Every MM-DD of a common year, leaving out `without` (e.g. "01-01")."""
    parts = []
    for month, days in _MONTH_DAYS.items():
        if without and without.startswith(month + "-"):
            day = without[3:]
            # the month's days but one: only the first (01) or last (31) is ever left out here
            parts.append(f"{month}-(?:0[2-9]|[12][0-9]|3[01])" if day == "01" else f"{month}-(?:0[1-9]|[12][0-9]|30)")
        else:
            parts.append(f"{month}-{_DAYS[days]}")
    return _alt(*parts)


_YEAR = "(?:000[1-9]|00[1-9][0-9]|0[1-9][0-9]{2}|[1-9][0-9]{3})"  # 0001-9999, what Python's date holds
_YEAR_INNER = "(?:000[2-9]|00[1-9][0-9]|0[1-9][0-9]{2}|[1-8][0-9]{3}|9[0-8][0-9]{2}|99[0-8][0-9]|999[0-8])"
_LEAP_DAY = "(?:[0-9]{2}(?:0[48]|[2468][048]|[13579][26])|(?:0[48]|[2468][048]|[13579][26])00)-02-29"
_DATE = _alt(f"{_YEAR}-{_month_day()}", _LEAP_DAY)
DATE = f"^{_DATE}$"

_TIME = r"(?:[01][0-9]|2[0-3]):[0-5][0-9](?::[0-5][0-9](?:\.[0-9]{1,6})?)?"
_HOURS = "(?:[01][0-9]|2[0-3]):[0-5][0-9]"
_OFFSET = f"(?:Z|[+-]{_HOURS})?"
# On the first and the last day Python can hold, an offset that would carry the time past that day is refused.
_OFFSET_FIRST_DAY = f"(?:Z|\\+00:00|-{_HOURS})?"
_OFFSET_LAST_DAY = f"(?:Z|-00:00|\\+{_HOURS})?"
DATETIME = "^" + _alt(
    _alt(
        f"{_YEAR_INNER}-{_month_day()}",
        f"0001-{_month_day(without='01-01')}",
        f"9999-{_month_day(without='12-31')}",
        _LEAP_DAY,
    ) + f"T{_TIME}{_OFFSET}",
    f"0001-01-01T{_TIME}{_OFFSET_FIRST_DAY}",
    f"9999-12-31T{_TIME}{_OFFSET_LAST_DAY}",
) + "$"

WHOLE_NUMBER = "^-?[0-9]+$"  # a whole number in a query string

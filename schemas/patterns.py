"""What the server reads in typed text, as regular expressions the OpenAPI document declares.

Each pattern admits exactly what its parser accepts (app.hours.calendar, schemas.fields),
digits in any of the three scripts people type (ASCII, Persian ۰-۹, Arabic-Indic ٠-٩), so
that a generated client, the fuzzers and the server agree on what is valid
(tests/unit/test_patterns.py holds each pattern and its parser to the same answers). They
are written in the part of regular-expression syntax that Python and ECMA 262 (JSON
Schema's dialect) read alike: classes, groups, `?`, `*`, `{n,m}`, `^` and `$`.
"""

ASCII, PERSIAN, ARABIC = "0123456789", "۰۱۲۳۴۵۶۷۸۹", "٠١٢٣٤٥٦٧٨٩"

# What a parser trims off, and allows around a separator: spaces, tabs and line ends.
BLANKS = " \t\r\n"
BLANK = r"[ \t\r\n]*"

# Jalali years the server reads: 1279-1577, the whole years whose every instant falls in
# 1900-2199, the instants the server reads (1279-01-01 is 1900-03-21; 1577-12-30 is
# 2199-03-20: a visit list's times on 1278-06-15 fell in 1899, which no answer could carry;
# see INSTANT), and within reach of the calendar's arithmetic.
JALALI_YEARS = (1279, 1577)
# A photo's name (DESIGN §5.5): the lower-case hex SHA-256 of its bytes.
SHA256_HEX = "[0-9a-f]{64}"


def digit(low: int, high: int | None = None) -> str:
    """One digit from `low` to `high` (or just `low`), in any script: `[0-9۰-۹٠-٩]`."""
    high = low if high is None else high
    if low == high:
        return f"[{ASCII[low]}{PERSIAN[low]}{ARABIC[low]}]"
    return f"[{ASCII[low]}-{ASCII[high]}{PERSIAN[low]}-{PERSIAN[high]}{ARABIC[low]}-{ARABIC[high]}]"


ANY = digit(0, 9)
_SEPARATOR = f"{BLANK}[-/]{BLANK}"
_DAY_30 = f"(?:{digit(0)}?{digit(1, 9)}|{digit(1, 2)}{ANY}|{digit(3)}{digit(0)})"
_DAY_31 = f"(?:{digit(0)}?{digit(1, 9)}|{digit(1, 2)}{ANY}|{digit(3)}{digit(0, 1)})"
# Farvardin to Shahrivar have 31 days, Mehr to Bahman 30, Esfand 29 (30 in a leap year: the
# one thing left to the parser, which names the year).
MONTH_DAY = (f"(?:{digit(0)}?{digit(1, 6)}{_SEPARATOR}{_DAY_31}"
             f"|(?:{digit(0)}?{digit(7, 9)}|{digit(1)}{digit(0, 2)}){_SEPARATOR}{_DAY_30})")
YEAR = (f"{digit(1)}(?:{digit(2)}(?:{digit(7)}{digit(9)}|{digit(8, 9)}{ANY})|{digit(3, 4)}{ANY}{ANY}"
        f"|{digit(5)}(?:{digit(0, 6)}{ANY}|{digit(7)}{digit(0, 7)}))")
JALALI_DATE = f"{YEAR}{_SEPARATOR}{MONTH_DAY}"

# 0:00 to 23:59, seconds optional.
CLOCK_TIME = (f"(?:{digit(0, 1)}?{ANY}|{digit(2)}{digit(0, 3)}):{digit(0, 5)}{ANY}"
              f"(?::{digit(0, 5)}{ANY})?")

# An ISO 8601 instant with its offset, in the years 1900 to 2199: `2026-03-25T08:15:03+03:30`,
# seconds and their fraction optional, `Z` for UTC, an offset to the second (Tehran's in
# 1900 was +03:25:44). February 29th of a common year is left to the parser.
_G_DAY_29 = f"(?:{digit(0)}{digit(1, 9)}|{digit(1, 2)}{ANY})"
_G_DAY_30 = f"(?:{_G_DAY_29}|{digit(3)}{digit(0)})"
_G_DAY_31 = f"(?:{_G_DAY_29}|{digit(3)}{digit(0, 1)})"


def _one_of(*digits: int) -> str:
    return "[" + "".join(ASCII[d] + PERSIAN[d] + ARABIC[d] for d in digits) + "]"


_G_MONTH_DAY = (f"(?:(?:{digit(0)}{_one_of(1, 3, 5, 7, 8)}|{digit(1)}{_one_of(0, 2)})-{_G_DAY_31}"
                f"|(?:{digit(0)}{_one_of(4, 6, 9)}|{digit(1)}{digit(1)})-{_G_DAY_30}"
                f"|{digit(0)}{digit(2)}-{_G_DAY_29})")
_HOUR = f"(?:{digit(0, 1)}{ANY}|{digit(2)}{digit(0, 3)})"
_MINUTE = f"{digit(0, 5)}{ANY}"
INSTANT = (f"(?:{digit(1)}{digit(9)}|{digit(2)}{digit(0, 1)}){ANY}{ANY}-{_G_MONTH_DAY}"
           f"[Tt ]{_HOUR}:{_MINUTE}(?::{_MINUTE}(?:[.,]{ANY}+)?)?"
           f"(?:Z|[-+]{_HOUR}(?::{_MINUTE}(?::{_MINUTE})?|{_MINUTE}(?:{_MINUTE})?)?)")

# `lat,lon` in decimal degrees: a latitude within ±90, a longitude within ±180. A decimal
# point may be `.` or the Persian `٫`, the comma `,`, `،` or `٬`.
_POINT = "[.\u066b]"
_FRACTION = f"(?:{_POINT}{ANY}+)?"
_ZEROS = f"(?:{_POINT}{digit(0)}+)?"
LATITUDE = f"[-+]?{digit(0)}*(?:{digit(0, 8)}?{ANY}{_FRACTION}|{digit(9)}{digit(0)}{_ZEROS})"
LONGITUDE = (f"[-+]?{digit(0)}*(?:{ANY}{{1,2}}{_FRACTION}|{digit(1)}{digit(0, 7)}{ANY}{_FRACTION}"
             f"|{digit(1)}{digit(8)}{digit(0)}{_ZEROS})")
LAT_LON = f"{LATITUDE}{BLANK}[,\u060c\u066c]{BLANK}{LONGITUDE}"


# Where an hours rule applies: `city`, `district:N` (1-22), `category:NAME`, `office:ID`
# (app.hours.rules.Scope; whether the category or office exists is the server's to say).
SCOPE = (f"(?:city:?|district:{digit(0)}*(?:{digit(1, 9)}|{digit(1)}{ANY}|{digit(2)}{digit(0, 2)})"
         r"|(?:category|office):[^\u0000 \t\r\n][^\u0000]*)")


def whole(pattern: str) -> str:
    """The pattern as the whole of a value, blanks around it allowed."""
    return f"^{BLANK}{pattern}{BLANK}$"

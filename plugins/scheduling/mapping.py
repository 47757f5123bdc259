"""The map of jobs and tickets: which buildings and units produce the most work, drawn as an
SVG from the addresses' own coordinates — no tile server, no internet needed.

With the ``map_tile_url`` setting (a slippy-map server, ``.../{z}/{x}/{y}.png``) the points
are placed in Web Mercator instead, at the largest zoom that holds them all, over the tiles
that cover the drawing (:func:`tile_view`).

Places are buildings (or a lone address); each carries the tickets (when the tickets plugin
is enabled and the viewer may see tickets) and jobs of the accounts living there.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import sqlalchemy as sa

from backhaul.sdk import db, may, plugin_enabled
from backhaul.sdk.accounts import Account, Address, Building

from .models import Job

WIDTH, HEIGHT, PAD = 800, 500, 30
TILE = 256
MAX_ZOOM = 18


@dataclass
class Place:
    key: str
    label: str
    latitude: float | None
    longitude: float | None
    tickets: int = 0
    open_tickets: int = 0
    jobs: int = 0
    units: dict = field(default_factory=dict)  # unit label -> tickets + jobs
    x: float = 0.0
    y: float = 0.0

    @property
    def weight(self) -> int:
        return self.tickets + self.jobs

    @property
    def radius(self) -> float:
        return 4 + 3 * math.sqrt(self.weight)


def places() -> list[Place]:
    """Every building or address with tickets or jobs, busiest first."""
    counts: dict[int, tuple[int, int]] = {}
    if plugin_enabled("tickets") and may("tickets.ticket.view"):
        from backhaul.plugins.tickets.api import ticket_counts_by_account

        counts = ticket_counts_by_account()
    jobs = dict(db.session.execute(sa.select(Job.account_id, sa.func.count(Job.id)).where(
        Job.account_id.is_not(None)).group_by(Job.account_id)).all())
    ids = set(counts) | set(jobs)
    if not ids:
        return []
    rows = db.session.execute(
        sa.select(Account.id, Address, Building).join(Address, Account.address_id == Address.id)
        .outerjoin(Building, Address.building_id == Building.id).where(Account.id.in_(ids)))
    found: dict[str, Place] = {}
    for account_id, address, building in rows:
        key = f"b{building.id}" if building else f"a{address.id}"
        lat = building.latitude if building and building.latitude is not None \
            else address.latitude
        lon = building.longitude if building and building.longitude is not None \
            else address.longitude
        place = found.setdefault(key, Place(
            key, building.name if building else f"{address.street}, {address.city}",
            float(lat) if lat is not None else None, float(lon) if lon is not None else None))
        waiting, total = counts.get(account_id, (0, 0))
        place.tickets += total
        place.open_tickets += waiting
        place.jobs += jobs.get(account_id, 0)
        unit = address.unit or "—"
        place.units[unit] = place.units.get(unit, 0) + total + jobs.get(account_id, 0)
    out = sorted(found.values(), key=lambda p: (-p.weight, p.label))
    _project([p for p in out if p.latitude is not None and p.longitude is not None])
    return out


def _project(points: list[Place]) -> None:
    """Fit the points into the drawing: equirectangular, longitude scaled by the latitude."""
    if not points:
        return
    lats = [p.latitude for p in points]
    lons = [p.longitude for p in points]
    scale_x = math.cos(math.radians(sum(lats) / len(lats)))
    span_x = max((max(lons) - min(lons)) * scale_x, 1e-6)
    span_y = max(max(lats) - min(lats), 1e-6)
    k = min((WIDTH - 2 * PAD) / span_x, (HEIGHT - 2 * PAD) / span_y)
    for p in points:
        p.x = PAD + (p.longitude - min(lons)) * scale_x * k if len(points) > 1 else WIDTH / 2
        p.y = HEIGHT - PAD - (p.latitude - min(lats)) * k if len(points) > 1 else HEIGHT / 2


# ------------------------------------------------------------------------------ tiles
def tile_url_problem(url: str) -> str | None:
    """Why ``url`` is not a usable tile URL template, or None ("" is fine: no tiles)."""
    if not url:
        return None
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return "an http(s) URL, e.g. https://tiles.example/{z}/{x}/{y}.png"
    if any(k not in url for k in ("{z}", "{x}", "{y}")):
        return "the URL needs {z}, {x} and {y} where the tile's zoom and numbers go"
    rest = url.replace("{z}", "").replace("{x}", "").replace("{y}", "")
    if any(c in rest for c in "{}\"'<> \t\r\n"):
        return "only {z}, {x} and {y} may be placeholders; no quotes or spaces"
    return None


def tile_origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


@dataclass(frozen=True)
class Tile:
    url: str
    x: float
    y: float


def _world(lat: float, lon: float, zoom: int) -> tuple[float, float]:
    """Web Mercator pixel coordinates at ``zoom`` (256-pixel tiles)."""
    scale = TILE * 2 ** zoom
    lat = max(min(lat, 85.0511), -85.0511)
    siny = math.sin(math.radians(lat))
    return ((lon + 180.0) / 360.0 * scale,
            (0.5 - math.log((1 + siny) / (1 - siny)) / (4 * math.pi)) * scale)


def tile_view(points: list[Place], url: str) -> tuple[int, list[Tile]]:
    """Place ``points`` (x, y) in Web Mercator at the largest zoom that fits them in the
    drawing, centred; return the zoom and the tiles covering the drawing."""
    if not points:
        return 0, []
    zoom = MAX_ZOOM if len(points) == 1 else 0
    for z in range(MAX_ZOOM, -1, -1):
        xs, ys = zip(*(_world(p.latitude, p.longitude, z) for p in points), strict=True)
        if max(xs) - min(xs) <= WIDTH - 2 * PAD and max(ys) - min(ys) <= HEIGHT - 2 * PAD:
            zoom = z
            break
    if len(points) == 1:
        zoom = 16
    coords = [_world(p.latitude, p.longitude, zoom) for p in points]
    xs, ys = zip(*coords, strict=True)
    left = (max(xs) + min(xs)) / 2 - WIDTH / 2
    top = (max(ys) + min(ys)) / 2 - HEIGHT / 2
    for p, (wx, wy) in zip(points, coords, strict=True):
        p.x, p.y = wx - left, wy - top
    count = 2 ** zoom
    tiles = []
    rows = range(max(0, math.floor(top / TILE)),
                 min(count, math.floor((top + HEIGHT) / TILE) + 1))
    for ty in rows:
        for tx in range(math.floor(left / TILE), math.floor((left + WIDTH) / TILE) + 1):
            wrapped = tx % count
            address = (url.replace("{z}", str(zoom)).replace("{x}", str(wrapped))
                       .replace("{y}", str(ty)))
            tiles.append(Tile(address, tx * TILE - left, ty * TILE - top))
    return zoom, tiles

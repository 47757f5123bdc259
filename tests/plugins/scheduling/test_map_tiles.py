"""The map's optional tile server (``map_tile_url``): off by default (the offline SVG, no
request leaves the page); when set, the tiles under each point are the ones the standard
slippy-map formula names (OpenStreetMap wiki, computed here independently), the page's
Content-Security-Policy lets images come from that server only, and Chromium really
fetches them from a tile server running in the test."""
from __future__ import annotations

import math
import re
import struct
import threading
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from test_map import _building_with_work

from backhaul.sdk.testing import free_port

TILES = "http://127.0.0.1:{port}/tiles/{{z}}/{{x}}/{{y}}.png"


def _png() -> bytes:
    """A 256x256 light grey PNG (built by hand: no imaging library needed)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))
    raw = b"".join(b"\x00" + b"\xd8" * 256 for _ in range(256))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 256, 256, 8, 0, 0,
                                                              0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


class TileServer:
    def __init__(self):
        self.port = free_port()
        self.requests: list[str] = []
        png, seen = _png(), self.requests

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802
                seen.append(self.path)
                self.send_response(200)
                self.send_header("Content-Type", "image/png")
                self.send_header("Content-Length", str(len(png)))
                self.end_headers()
                self.wfile.write(png)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def tile_server():
    server = TileServer()
    yield server
    server.stop()


@pytest.fixture
def app(make_app, tile_server, request):
    tiles = {} if request.node.get_closest_marker("no_tiles") else {
        "map_tile_url": TILES.format(port=tile_server.port),
        "map_tile_attribution": "Tiles © Test Tiles"}
    application = make_app(plugins=["notifications", "tickets", "scheduling"],
                           plugin_settings={"scheduling": tiles})
    with application.app_context():
        yield application


def osm_tile(lat: float, lon: float, zoom: int) -> tuple[int, int]:
    """The OSM wiki's formula (Slippy map tilenames)."""
    n = 2 ** zoom
    rad = math.radians(lat)
    return int((lon + 180.0) / 360.0 * n), int((1.0 - math.asinh(math.tan(rad)) / math.pi)
                                               / 2.0 * n)


def _signed_in(app, staff_user, login):
    client = app.test_client()
    login(client, staff_user(["scheduling.job.view", "tickets.ticket.view"]))
    return client


def test_tiles_under_each_point_and_a_policy_for_their_server(app, field, staff_user, login,
                                                              tile_server):
    from backhaul.plugins.tickets import config

    _building_with_work(field, config.save_group("Support"))
    response = _signed_in(app, staff_user, login).get("/scheduling/map")
    page = response.get_data(as_text=True)
    policy = response.headers["Content-Security-Policy"]
    assert f"img-src 'self' data: http://127.0.0.1:{tile_server.port};" in policy
    assert "script-src 'self';" in policy and "default-src 'self';" in policy
    assert "Tiles © Test Tiles" in page
    images = {(int(z), int(x), int(y)): (float(px), float(py)) for z, x, y, px, py in
              re.findall(r'href="http://127\.0\.0\.1:\d+/tiles/(\d+)/(\d+)/(\d+)\.png" '
                         r'x="(-?[\d.]+)" y="(-?[\d.]+)"', page)}
    assert images
    zoom = {z for z, _x, _y in images}.pop()
    assert zoom >= 10  # two buildings 2 km apart: a street-level zoom, not the whole world
    circles = [(float(cx), float(cy)) for cx, cy in re.findall(
        r'<circle cx="([\d.]+)" cy="([\d.]+)"', page)]
    for (lat, lon), (cx, cy) in zip(((39.7817, -89.6501), (39.8000, -89.6000)), circles,
                                    strict=True):
        x, y = osm_tile(lat, lon, zoom)
        tile_x, tile_y = images[(zoom, x, y)]
        assert tile_x <= cx < tile_x + 256 and tile_y <= cy < tile_y + 256
        assert 0 <= cx <= 800 and 0 <= cy <= 500


@pytest.mark.no_tiles
def test_without_the_setting_the_map_stays_offline(app, field, staff_user, login):
    from backhaul.plugins.tickets import config

    _building_with_work(field, config.save_group("Support"))
    response = _signed_in(app, staff_user, login).get("/scheduling/map")
    page = response.get_data(as_text=True)
    assert "<image" not in page and "/tiles/" not in page
    assert "img-src 'self' data:;" in response.headers["Content-Security-Policy"]


@pytest.mark.parametrize("url, ok", [
    ("", True),
    ("https://tiles.example/{z}/{x}/{y}.png", True),
    ("https://tiles.example/{z}/{x}.png", False),
    ("ftp://tiles.example/{z}/{x}/{y}.png", False),
    ("javascript:alert(1)//{z}{x}{y}", False),
    ('https://t.example/{z}/{x}/{y}.png" onload="x', False),
    ("https://t.example/{z}/{x}/{y}/{0.__class__}.png", False),
])
def test_the_setting_is_checked(app, url, ok):
    from backhaul.plugins.scheduling import Settings

    errors = Settings().validate({"map_tile_url": url})
    assert (not errors) is ok, errors


@pytest.mark.browser
def test_chromium_fetches_the_tiles(app, field, staff_user, make_live_server, page,
                                    tile_server, tmp_path):
    import os

    from playwright.sync_api import expect

    from backhaul.plugins.tickets import config

    _building_with_work(field, config.save_group("Support"))
    user = staff_user(["scheduling.job.view", "tickets.ticket.view"])
    live = make_live_server(app)
    page.goto(live.url("/login"))
    page.get_by_label("E-mail address").fill(user.email)
    page.get_by_label("Password").fill(user.test_password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: "/login" not in url)
    page.goto(live.url("/scheduling/map"))
    expect(page.locator("#map image.map-tile").first).to_be_attached()
    page.wait_for_load_state("networkidle")
    count = page.locator("#map image.map-tile").count()
    assert len(set(tile_server.requests)) == count  # every tile fetched, from our server only
    shots = os.environ.get("BACKHAUL_SCREENSHOTS") or str(tmp_path)
    page.screenshot(path=os.path.join(shots, "map-tiles.png"), full_page=True)

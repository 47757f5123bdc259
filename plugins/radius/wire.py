"""The packet guard: RADIUS bytes are checked before any library decodes them.

pyrad's decoder trusts lengths: a Vendor-Specific sub-attribute of length 0 makes it loop
forever (issue #234), before any secret or authenticator is checked, so a 37-byte packet
from anyone could stall the server. :func:`check` walks the packet's structure itself —
header length, every attribute length, and the sub-attributes of the vendors the dictionary
decodes — in time linear in the packet's size (at most 4096 bytes, RFC 2865 §3), and names
the first thing wrong. Only a packet that passes is handed to pyrad.
"""
from __future__ import annotations

import struct

MIN_LENGTH, MAX_LENGTH = 20, 4096
VENDOR_SPECIFIC = 26
#: codes this server accepts on its ports
ACCESS_REQUEST, ACCOUNTING_REQUEST = 1, 4


class Malformed(ValueError):
    """Why a packet was dropped (the reason is counted and logged)."""


def check(data: bytes, *, vendors_decoded: frozenset[int] = frozenset()) -> int:
    """Validate ``data``'s structure; returns the packet code. Raises :class:`Malformed`."""
    if len(data) < MIN_LENGTH:
        raise Malformed("shorter than a RADIUS header")
    code, _ident, length = struct.unpack_from("!BBH", data)
    if length < MIN_LENGTH or length > MAX_LENGTH:
        raise Malformed(f"length field {length} outside 20-4096")
    if length > len(data):
        raise Malformed("truncated: the length field exceeds the datagram")
    # octets beyond the length field are padding and ignored (RFC 2865 §3)
    pos = 20
    while pos < length:
        if pos + 2 > length:
            raise Malformed("truncated attribute header")
        kind, size = data[pos], data[pos + 1]
        if size < 2 or pos + size > length:
            raise Malformed(f"attribute {kind} has a bad length {size}")
        if kind == VENDOR_SPECIFIC:
            _check_vendor(data[pos + 2:pos + size], vendors_decoded)
        pos += size
    return code


def _check_vendor(value: bytes, vendors_decoded: frozenset[int]) -> None:
    if len(value) < 4:
        raise Malformed("Vendor-Specific shorter than its vendor id")
    vendor = struct.unpack_from("!I", value)[0]
    if vendor not in vendors_decoded:
        return  # kept as opaque octets by the decoder
    pos = 4
    while pos < len(value):
        if pos + 2 > len(value):
            raise Malformed(f"vendor {vendor}: truncated sub-attribute")
        size = value[pos + 1]
        if size < 2 or pos + size > len(value):
            raise Malformed(f"vendor {vendor}: sub-attribute of bad length {size}")
        pos += size

"""The RADIUS dictionary (``dictionary.radius`` beside this file), loaded once per process."""
from __future__ import annotations

import functools
from pathlib import Path

HERE = Path(__file__).parent


@functools.cache
def dictionary():
    from pyrad.dictionary import Dictionary

    return Dictionary(str(HERE / "dictionary.radius"))


@functools.cache
def vendors_decoded() -> frozenset[int]:
    """Vendor ids whose sub-attributes pyrad decodes (and :mod:`.wire` therefore checks)."""
    return frozenset(dictionary().vendors.GetForward(name)
                     for name in dictionary().vendors.forward)

"""Strict URL-safe base64.

Python's ``base64.urlsafe_b64decode`` silently skips characters outside the alphabet; gorilla's
decoder (Go's ``base64.URLEncoding``) rejects them. We translate the URL-safe alphabet to the
standard one while mapping the standard-only characters ``+`` and ``/`` to an invalid byte, then
let ``binascii`` decode in strict mode, so both rules hold in two C calls.
"""

from __future__ import annotations

import binascii
import re
import sys

__all__ = ["b64decode_strict", "b64encode"]

_TO_STD = bytes.maketrans(b"-_+/", b"+/!!")
_FROM_STD = bytes.maketrans(b"+/", b"-_")
_STRICT = sys.version_info >= (3, 11)
_URLSAFE = re.compile(rb"[A-Za-z0-9_-]*={0,2}")


def b64encode(data: bytes, *, pad: bool = True) -> bytes:
    """URL-safe base64, padded like Go's ``URLEncoding`` unless ``pad`` is False."""
    out = binascii.b2a_base64(data, newline=False).translate(_FROM_STD)
    return out if pad else out.rstrip(b"=")


def b64decode_strict(data: bytes, *, pad: bool = True) -> bytes:
    """Decode URL-safe base64, rejecting anything Go's decoder would reject.

    Args:
        data: the text, as bytes.
        pad: True for padded input (length a multiple of 4); False for unpadded input.

    Raises:
        binascii.Error: illegal characters, bad padding or bad length.
    """
    if not pad:
        rem = len(data) % 4
        if rem == 1:
            raise binascii.Error("invalid base64 length")
        if b"=" in data:
            raise binascii.Error("unexpected padding")
        data += b"=" * ((4 - rem) % 4)
    elif len(data) % 4:
        raise binascii.Error("base64 input is not padded to a multiple of 4")
    if _STRICT:
        return binascii.a2b_base64(data.translate(_TO_STD), strict_mode=True)
    if not _URLSAFE.fullmatch(data):
        raise binascii.Error("illegal base64 data")
    return binascii.a2b_base64(data.translate(_TO_STD))

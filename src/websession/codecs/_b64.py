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
_TO_STD_NOPAD = bytes.maketrans(b"-_+/=", b"+/!!!")  # unpadded input has no "=" at all
_FROM_STD = bytes.maketrans(b"+/", b"-_")
_PADDING = (b"", None, b"==", b"=")  # indexed by len(data) % 4; 1 is never valid

if sys.version_info >= (3, 11):

    def _a2b(data: bytes) -> bytes:
        # A def, not functools.partial: a partial with a keyword builds a dict on every call.
        return binascii.a2b_base64(data, strict_mode=True)

else:  # pragma: no cover - Python 3.10
    _STANDARD = re.compile(rb"[A-Za-z0-9+/]*={0,2}")

    def _a2b(data: bytes) -> bytes:
        if not _STANDARD.fullmatch(data):
            raise binascii.Error("illegal base64 data")
        return binascii.a2b_base64(data)


def b64encode(data: bytes, *, pad: bool = True) -> bytes:
    """URL-safe base64, padded like Go's ``URLEncoding`` unless ``pad`` is False."""
    out = binascii.b2a_base64(data, newline=False).translate(_FROM_STD)
    return out if pad else out.rstrip(b"=")


def b64decode_strict(data: bytes, *, pad: bool = True) -> bytes:
    """Decode URL-safe base64, rejecting anything Go's decoder would reject.

    The URL-safe alphabet is translated to the standard one while ``+`` and ``/`` (and ``=`` in
    unpadded input) become an invalid byte, then ``binascii`` decodes in strict mode.

    Args:
        data: the text, as bytes.
        pad: True for padded input (length a multiple of 4); False for unpadded input.

    Raises:
        binascii.Error: illegal characters, bad padding or bad length.
    """
    if pad:
        if len(data) & 3:
            raise binascii.Error("base64 input is not padded to a multiple of 4")
        return _a2b(data.translate(_TO_STD))
    tail = _PADDING[len(data) & 3]
    if tail is None:
        raise binascii.Error("invalid base64 length")
    return _a2b(data.translate(_TO_STD_NOPAD) + tail)

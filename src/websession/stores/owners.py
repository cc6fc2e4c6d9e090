"""What "log out everywhere" shares between stores: owner keys, index entries, SessionInfo.

An owner is the application's id for whoever a session belongs to (``session.owner =
"user-42"``). Backends never see it: they index by :func:`owner_key`, a hash, so any string is
a safe key in any database and a dump of the index does not list user ids beside sessions.
"""

from __future__ import annotations

import base64
import hashlib
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import msgpack

__all__ = ["SessionInfo", "check_owner", "owner_key", "pack_entry", "unpack_entry"]

#: the longest owner id accepted (a user id, an email address...: not a document)
MAX_OWNER_LENGTH = 256
#: the most bytes of app metadata an index entry carries (see ``session.device``)
MAX_ENTRY_BYTES = 2048


def check_owner(owner: Any) -> str:
    """``owner`` if it is a usable owner id, else TypeError/ValueError saying why."""
    if not isinstance(owner, str):
        raise TypeError(f"an owner is a str (e.g. 'user-42'), not {type(owner).__name__}")
    if not owner or len(owner) > MAX_OWNER_LENGTH:
        raise ValueError(f"an owner is 1 to {MAX_OWNER_LENGTH} characters, not {len(owner)}")
    return owner


def owner_key(owner: str) -> str:
    """The key backends index ``owner``'s sessions under: 43 characters of base64url."""
    digest = hashlib.sha256(b"websession owner\x00" + owner.encode("utf-8")).digest()
    return base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")


@dataclass(frozen=True)
class SessionInfo:
    """One live session of an owner, as :meth:`sessions_for` lists it.

    Attributes:
        id_hash: a stable, non-secret handle of the session (a hash of its id: it cannot be
            used as a cookie). Compare it with :attr:`Session.id_hash` to mark "this device".
        created_at: when the session was first made (seconds since the epoch), if known.
        saved_at: its last save.
        expires_at: when it ends unless it is saved again.
        meta: what the application attached with ``session.device`` (e.g. a user agent).
    """

    id_hash: str
    created_at: float | None
    saved_at: float
    expires_at: float
    meta: Mapping[str, Any] = field(default_factory=dict)


def pack_entry(
    created_at: float | None, saved_at: float, expires_at: float, meta: Mapping[str, Any] | None
) -> bytes:
    """An index entry: small msgpack, the metadata dropped if it would make it too big."""
    body: dict[str, Any] = {"c": created_at, "s": saved_at, "x": expires_at}
    if meta:
        body["m"] = dict(meta)
    try:
        packed: bytes = msgpack.packb(body, use_bin_type=True)
    except (TypeError, ValueError, OverflowError):
        packed = b""  # metadata msgpack cannot hold: dropped below
    if not packed or len(packed) > MAX_ENTRY_BYTES:
        body["m"] = {"_dropped": "the device metadata was too large or not serializable"}
        packed = msgpack.packb(body, use_bin_type=True)
    return packed


def unpack_entry(id_hash: str, data: bytes) -> SessionInfo:
    """The SessionInfo an index entry holds (fields it lacks are None/empty)."""
    try:
        body = msgpack.unpackb(data, raw=False, strict_map_key=True)
    except (ValueError, msgpack.ExtraData, msgpack.FormatError, msgpack.StackError):
        body = {}
    if not isinstance(body, dict):
        body = {}
    created = body.get("c")
    saved = body.get("s")
    expires = body.get("x")
    meta = body.get("m")
    return SessionInfo(
        id_hash=id_hash,
        created_at=float(created) if isinstance(created, int | float) else None,
        saved_at=float(saved) if isinstance(saved, int | float) else 0.0,
        expires_at=float(expires) if isinstance(expires, int | float) else math.inf,
        meta=meta if isinstance(meta, dict) else {},
    )

"""NopSerializer: bytes in, the same bytes out, nothing else accepted."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from websession import EncodeError, NopSerializer


@given(value=st.binary())
def test_nop_round_trip(value: bytes) -> None:
    s = NopSerializer()
    assert s.serialize(value) == value
    assert s.deserialize(s.serialize(value)) == value


def test_nop_copies_mutable_buffers() -> None:
    buf = bytearray(b"abc")
    out = NopSerializer().serialize(buf)
    assert type(out) is bytes
    buf[0] = 0
    assert out == b"abc"
    assert NopSerializer().serialize(memoryview(b"xyz")) == b"xyz"


@pytest.mark.parametrize("value", ["text", 1, None, ["a"]])
def test_nop_takes_bytes_only(value: Any) -> None:
    with pytest.raises(EncodeError, match="takes bytes"):
        NopSerializer().serialize(value)

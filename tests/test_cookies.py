"""CookieOptions, cookie-name rules, Set-Cookie output and Cookie header parsing."""

from __future__ import annotations

import re
from email.utils import parsedate_to_datetime

import pytest

from tests.support import interop
from websession import CookieOptions, format_set_cookie, parse_cookie_header
from websession.cookies import validate_cookie_name

HTTP_DATE = re.compile(r"[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT")
NOW = 1_795_305_596.0  # the gorilla header vectors were made at this time


def shape(header: str) -> list[str]:
    """A Set-Cookie header with its value and dates replaced by placeholders."""
    first, *attrs = header.split("; ")
    name, _, _value = first.partition("=")
    out = [f"{name}=<value>"]
    for attr in attrs:
        key, sep, val = attr.partition("=")
        if key == "Expires" and val != "Thu, 01 Jan 1970 00:00:01 GMT":
            assert HTTP_DATE.fullmatch(val), val
            val = "<date>"
        out.append(key + sep + val)
    return out


# -- options ---------------------------------------------------------------------------------
def test_defaults_are_safe() -> None:
    o = CookieOptions()
    assert o.path == "/"
    assert o.domain is None
    assert o.max_age == 30 * 86400
    assert o.secure is True
    assert o.http_only is True
    assert o.same_site == "Lax"
    assert o.partitioned is False


def test_copy_is_independent_and_validated() -> None:
    o = CookieOptions()
    c = o.copy(max_age=0)
    assert c.max_age == 0
    assert o.max_age == 30 * 86400
    c.path = "/x"
    assert o.path == "/"
    with pytest.raises(ValueError):
        o.copy(same_site="Sideways")
    with pytest.raises(ValueError):
        o.copy(secure=False, same_site="None")


@pytest.mark.parametrize(
    "kwargs",
    [
        {"same_site": "None", "secure": False},
        {"partitioned": True, "secure": False},
        {"same_site": "lax"},  # case matters: browsers ignore unknown values
        {"same_site": "Sideways"},
        {"max_age": 1.5},
        {"max_age": True},
        {"max_age": "60"},
        {"path": "no-slash"},
        {"path": "/a;b"},
        {"path": "/a\nb"},
        {"domain": "exa mple.com"},
        {"domain": "example.com;"},
        {"domain": "-bad.com"},
    ],
)
def test_invalid_options(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        CookieOptions(**kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"same_site": "None"},  # secure by default
        {"same_site": "Strict"},
        {"same_site": None},
        {"partitioned": True},
        {"secure": False, "same_site": "Lax"},
        {"domain": ".example.com"},
        {"domain": "sub.example-site.co.uk"},
        {"path": "/app/v1"},
        {"max_age": -1},
        {"max_age": 0},
    ],
)
def test_valid_options(kwargs: dict[str, object]) -> None:
    CookieOptions(**kwargs)  # type: ignore[arg-type]


def test_empty_domain_means_host_only() -> None:
    assert CookieOptions(domain="").domain is None
    assert "Domain" not in format_set_cookie("s", "v", CookieOptions(domain=""))


@pytest.mark.parametrize("name", ["__host-sid", "__HOST-sid", "__hOsT-sid"])
def test_host_prefix_rules_ignore_letter_case(name: str) -> None:
    """Browsers match __Host-/__Secure- case-insensitively: so do the checks (issue 9)."""
    CookieOptions().validate(name)
    for options in (
        CookieOptions(secure=False),
        CookieOptions(path="/app"),
        CookieOptions(domain="example.com"),
    ):
        with pytest.raises(ValueError, match="__Host-"):
            options.validate(name)
        with pytest.raises(ValueError, match="__Host-"):
            format_set_cookie(name, "v", options)


@pytest.mark.parametrize("name", ["__secure-sid", "__SECURE-sid", "__sEcUrE-sid"])
def test_secure_prefix_rules_ignore_letter_case(name: str) -> None:
    CookieOptions().validate(name)
    with pytest.raises(ValueError, match="__Secure-"):
        CookieOptions(secure=False).validate(name)


def test_prefix_rules() -> None:
    CookieOptions().validate("__Host-sid")
    CookieOptions().validate("__Secure-sid")
    with pytest.raises(ValueError, match="__Host-"):
        CookieOptions(secure=False).validate("__Host-sid")
    with pytest.raises(ValueError, match="__Host-"):
        CookieOptions(path="/app").validate("__Host-sid")
    with pytest.raises(ValueError, match="__Host-"):
        CookieOptions(domain="example.com").validate("__Host-sid")
    with pytest.raises(ValueError, match="__Secure-"):
        CookieOptions(secure=False).validate("__Secure-sid")
    CookieOptions(domain="example.com", path="/app").validate("__Secure-sid")
    # the rules also hold when the header is built
    with pytest.raises(ValueError):
        format_set_cookie("__Host-sid", "v", CookieOptions(secure=False))


@pytest.mark.parametrize(
    "name", ["session", "a", "__Host-x", "s.id", "A-b_c", "!#$%&'*+-.^_`|~09azAZ"]
)
def test_valid_names(name: str) -> None:
    assert validate_cookie_name(name) == name


@pytest.mark.parametrize(
    "name",
    ["", "a b", "a;b", "a=b", "a,b", 'a"b', "a(b)", "a/b", "a:b", "a@b", "naïve", "a\tb", "a\x7f"],
)
def test_invalid_names(name: str) -> None:
    with pytest.raises(ValueError, match="cookie name"):
        validate_cookie_name(name)
    with pytest.raises(ValueError):
        CookieOptions().validate(name)
    with pytest.raises(ValueError):
        format_set_cookie(name, "v", CookieOptions())


def test_invalid_name_type() -> None:
    with pytest.raises(ValueError):
        validate_cookie_name(42)  # type: ignore[arg-type]


# -- Set-Cookie --------------------------------------------------------------------------------
def test_default_header() -> None:
    header = format_set_cookie("sid", "abc", CookieOptions(), now=NOW)
    assert shape(header) == [
        "sid=<value>",
        "Path=/",
        "Expires=<date>",
        "Max-Age=2592000",
        "HttpOnly",
        "Secure",
        "SameSite=Lax",
    ]
    assert header.startswith("sid=abc; ")


def test_expires_is_now_plus_max_age() -> None:
    header = format_set_cookie("sid", "v", CookieOptions(max_age=3600), now=NOW)
    expires = re.search(r"Expires=([^;]+)", header)
    assert expires is not None
    assert parsedate_to_datetime(expires.group(1)).timestamp() == NOW + 3600
    assert "Max-Age=3600" in header


def test_every_attribute_in_go_order() -> None:
    o = CookieOptions(
        path="/app",
        domain=".example.com",
        max_age=60,
        secure=True,
        http_only=True,
        same_site="None",
        partitioned=True,
    )
    assert shape(format_set_cookie("x", "1", o, now=NOW)) == [
        "x=<value>",
        "Path=/app",
        "Domain=example.com",  # the leading dot is dropped, as Go does
        "Expires=<date>",
        "Max-Age=60",
        "HttpOnly",
        "Secure",
        "SameSite=None",
        "Partitioned",
    ]


def test_browser_session_cookie_has_no_expiry() -> None:
    header = format_set_cookie("s", "v", CookieOptions(max_age=0), now=NOW)
    assert header == "s=v; Path=/; HttpOnly; Secure; SameSite=Lax"


def test_deletion_cookie() -> None:
    header = format_set_cookie("s", "", CookieOptions(max_age=-5), now=NOW)
    assert header == (
        "s=; Path=/; Expires=Thu, 01 Jan 1970 00:00:01 GMT; Max-Age=0; HttpOnly; Secure; "
        "SameSite=Lax"
    )


def test_minimal_attributes() -> None:
    o = CookieOptions(max_age=0, secure=False, http_only=False, same_site=None)
    assert format_set_cookie("s", "v", o) == "s=v; Path=/"


def test_gorilla_research_header_shape() -> None:
    # gorilla.md B.6: MaxAge 0 + HttpOnly + Domain ".example.com" + Lax
    o = CookieOptions(max_age=0, domain=".example.com", same_site="Lax")
    assert format_set_cookie("sess", "v", o) == (
        "sess=v; Path=/; Domain=example.com; HttpOnly; Secure; SameSite=Lax"
    )


def test_gorilla_store_cookie_headers() -> None:
    """Go's headers for gorilla's CookieStore defaults (no HttpOnly, SameSite=None) and delete."""
    vector = interop.vector("store-cookie-headers")
    go_default = vector["default_set_cookie"][0]
    go_delete = vector["delete_set_cookie"][0]
    gorilla_defaults = CookieOptions(http_only=False, same_site="None")

    ours = format_set_cookie("defaults", "v", gorilla_defaults, now=NOW)
    assert shape(ours) == shape(go_default)
    # same clock, same Expires text as Go
    assert ours.split("; ")[2] == go_default.split("; ")[2]

    ours_delete = format_set_cookie("gone", "", gorilla_defaults.copy(max_age=-1), now=NOW)
    assert shape(ours_delete) == shape(go_delete)
    assert ours_delete.split("; ", 1)[1] == go_delete.split("; ", 1)[1]


@pytest.mark.parametrize("value", ["a b", "a;b", 'a"b', "a,b", "a\\b", "é", "a\nb"])
def test_values_a_cookie_cannot_carry(value: str) -> None:
    with pytest.raises(ValueError, match="value"):
        format_set_cookie("s", value, CookieOptions())


def test_base64url_values_are_fine() -> None:
    value = "AZaz09-_=" * 10
    assert format_set_cookie("s", value, CookieOptions()).startswith(f"s={value}; ")


# -- the Cookie request header -------------------------------------------------------------------
def test_parse_simple() -> None:
    assert parse_cookie_header("a=1; b=2") == {"a": ["1"], "b": ["2"]}
    assert parse_cookie_header(b"a=1;b=2") == {"a": ["1"], "b": ["2"]}


@pytest.mark.parametrize("header", [None, "", b"", ";", " ; ;  "])
def test_parse_empty(header: str | bytes | None) -> None:
    assert parse_cookie_header(header) == {}


def test_parse_duplicates_kept_in_order() -> None:
    got = parse_cookie_header("sid=first; other=x; sid=second; sid=third")
    assert got == {"sid": ["first", "second", "third"], "other": ["x"]}
    assert list(got) == ["sid", "other"]


def test_parse_strips_one_pair_of_quotes() -> None:
    got = parse_cookie_header('a="quoted"; b=""; c="; d="x""; e=plain')
    assert got["a"] == ["quoted"]
    assert got["b"] == [""]
    assert got["c"] == ['"']
    assert got["d"] == ['x"']
    assert got["e"] == ["plain"]


def test_parse_skips_bad_pairs_keeps_the_rest() -> None:
    header = "good=1; bad name=2; noequals; =novalue; sess=ok; (x)=3; also=fine"
    assert parse_cookie_header(header) == {"good": ["1"], "sess": ["ok"], "also": ["fine"]}


def test_parse_whitespace_and_empty_values() -> None:
    assert parse_cookie_header("  a = 1 ;b=;  c=x=y  ") == {"a": ["1"], "b": [""], "c": ["x=y"]}


def test_parse_latin1_bytes_do_not_crash() -> None:
    got = parse_cookie_header("a=1; b=\xe9t\xe9; c=3".encode("latin-1"))
    assert got["a"] == ["1"]
    assert got["c"] == ["3"]


def test_round_trip_with_set_cookie() -> None:
    header = format_set_cookie("sid", "abc-_=", CookieOptions())
    name, _, value = header.split(";")[0].partition("=")
    assert parse_cookie_header(f"x=1; {name}={value}") == {"x": ["1"], "sid": ["abc-_="]}


# -- options changed after they were made (they are plain dataclass fields) -------------------
def test_a_path_set_to_a_list_later_is_refused_when_the_cookie_is_made() -> None:
    options = CookieOptions()
    options.path = ["/"]  # type: ignore[assignment]
    with pytest.raises(ValueError, match="invalid cookie path"):
        format_set_cookie("s", "v", options)


def test_copy_checks_what_was_changed_by_hand() -> None:
    options = CookieOptions(domain="example.com")
    clone = options.copy()
    assert clone == options
    assert clone is not options
    options.path = "/a;b"
    with pytest.raises(ValueError, match="invalid cookie path '/a;b'"):
        options.copy()


def test_many_different_options_still_format_each_correctly() -> None:
    """The attribute cache is bounded: past its size it starts again, and nothing changes."""
    for n in range(600):
        header = format_set_cookie("s", "v", CookieOptions(path=f"/p{n}"))
        assert f"; Path=/p{n};" in header or header.endswith(f"; Path=/p{n}")

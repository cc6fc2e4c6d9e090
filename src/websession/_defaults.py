"""Defaults that several layers share, each written once (this module imports nothing)."""

#: 30 days: a cookie's default Max-Age, a codec's default age limit (gorilla's), and the
#: default lifetime of a server-side record
MAX_AGE = 30 * 24 * 60 * 60

#: bytes: browsers drop cookies longer than this (name, value and attributes), so it is also a
#: codec's default limit on an encoded value (gorilla's ``maxLength``)
BROWSER_COOKIE_LIMIT = 4096

#: 1 day: how long the server honours a browser-session cookie (``max_age == 0``) after its
#: session's last save, the store's ``ttl``. The browser keeps such a cookie until it closes,
#: which with session restore can be weeks; connect-redis uses the same default for the same case.
BROWSER_SESSION_TTL = 24 * 60 * 60

"""The demo's HTML: plain Python string templates, inline CSS, no external assets."""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Hashable, Iterable, Mapping, Sequence
from typing import Any

__all__ = ["debug_page", "error_page", "home_page", "render_values"]

CSS = """
:root { --bg:#f5f6fa; --card:#fff; --fg:#1d2433; --muted:#667085; --line:#e4e7ec;
  --accent:#4f46e5; --accent-fg:#fff; --ok-bg:#ecfdf3; --ok-fg:#05603a; --code:#f2f4f7; }
[data-theme=dark] { --bg:#0f1117; --card:#181b24; --fg:#e6e8ee; --muted:#98a2b3;
  --line:#2a2f3c; --accent:#818cf8; --accent-fg:#0f1117; --ok-bg:#0b2b1c; --ok-fg:#6ce9a6;
  --code:#11141b; }
* { box-sizing: border-box; }
body { margin:0; background:var(--bg); color:var(--fg);
  font:15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
header { display:flex; align-items:center; justify-content:space-between; gap:1rem;
  padding:1rem 2rem; border-bottom:1px solid var(--line); background:var(--card); }
header h1 { font-size:1.15rem; margin:0; }
header h1 span { color:var(--accent); }
a { color:var(--accent); }
nav a { color:var(--muted); margin-left:1rem; text-decoration:none; }
nav a:hover { color:var(--fg); }
main { max-width:64rem; margin:0 auto; padding:1.5rem 2rem 3rem; }
.grid { display:grid; gap:1rem; grid-template-columns:repeat(auto-fit, minmax(18rem, 1fr)); }
.card { background:var(--card); border:1px solid var(--line); border-radius:12px;
  padding:1.1rem 1.3rem; }
.card h2 { font-size:.8rem; letter-spacing:.06em; text-transform:uppercase; color:var(--muted);
  margin:0 0 .6rem; }
.big { font-size:2.6rem; font-weight:700; line-height:1.1; }
.muted { color:var(--muted); font-size:.87rem; }
.pill { display:inline-block; padding:.15rem .65rem; border-radius:999px; font-size:.85rem;
  border:1px solid var(--line); }
.pill.in { background:var(--ok-bg); color:var(--ok-fg); border-color:transparent; }
.flash { background:var(--ok-bg); color:var(--ok-fg); border-radius:10px; padding:.7rem 1rem;
  margin-bottom:1rem; }
form { margin:0; }
input[type=text] { width:100%; padding:.5rem .7rem; border:1px solid var(--line);
  border-radius:8px; background:var(--bg); color:var(--fg); font:inherit; }
label.check { display:flex; gap:.5rem; align-items:center; margin:.6rem 0; }
button { font:inherit; padding:.45rem 1rem; border-radius:8px; border:0; cursor:pointer;
  background:var(--accent); color:var(--accent-fg); font-weight:600; }
button.ghost { background:transparent; color:var(--fg); border:1px solid var(--line); }
code, pre { font:12.5px/1.45 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
pre { background:var(--code); border:1px solid var(--line); border-radius:8px; padding:.7rem;
  overflow-x:auto; white-space:pre-wrap; word-break:break-all; margin:.4rem 0 .8rem; }
table { width:100%; border-collapse:collapse; font-size:.9rem; }
td, th { text-align:left; padding:.3rem .4rem; border-bottom:1px solid var(--line);
  vertical-align:top; }
th { color:var(--muted); font-weight:500; width:9rem; }
.note { border-left:3px solid var(--accent); padding:.2rem .9rem; color:var(--muted);
  font-size:.88rem; margin:1rem 0; }
.wide { grid-column:1 / -1; }
"""


def esc(value: object) -> str:
    return html.escape(str(value), quote=True)


def when(ts: float | None) -> str:
    if ts is None:
        return "-"
    return dt.datetime.fromtimestamp(ts, dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def layout(title: str, theme: str, body: str) -> str:
    return f"""<!doctype html>
<html lang="en" data-theme="{esc(theme)}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{esc(title)} · websession demo</title>
<link rel="icon" href="data:,">
<style>{CSS}</style>
</head>
<body>
<header>
  <h1><span>websession</span> demo</h1>
  <nav><a href="/">Home</a><a href="/debug">Cookies &amp; sessions</a></nav>
</header>
<main>
{body}
</main>
</body>
</html>
"""


def render_values(values: Mapping[Hashable, Any]) -> str:
    if not values:
        return '<p class="muted">(empty)</p>'
    rows = "".join(
        f"<tr><th><code>{esc(repr(k))}</code></th><td><code>{esc(repr(v))}</code></td></tr>"
        for k, v in values.items()
    )
    return f"<table>{rows}</table>"


def flashes_html(messages: Sequence[Any]) -> str:
    return "".join(f'<div class="flash" role="status">{esc(m)}</div>' for m in messages)


def home_page(
    *,
    theme: str,
    visits: int,
    user: str | None,
    remember: bool,
    since: float | None,
    flashes: Sequence[Any],
    csrf: str,
    panel: str,
    devices: str = "",
) -> str:
    token = f'<input type="hidden" name="csrf" value="{esc(csrf)}">'
    if user:
        kind = (
            "a persistent cookie (30 days): you stay logged in after closing the browser"
            if remember
            else "a browser-session cookie: closing the browser logs you out"
        )
        account = f"""
<p><span class="pill in" id="status">Logged in as <strong id="user">{esc(user)}</strong></span></p>
<p class="muted">Since {esc(when(since))}. The <code>auth</code> cookie is {kind}.</p>
<form method="post" action="/logout">{token}
  <button id="logout" class="ghost">Log out</button></form>
"""
    else:
        account = f"""
<p><span class="pill" id="status">Not logged in</span></p>
<form method="post" action="/login">{token}
  <input type="text" name="username" placeholder="Your name" maxlength="32" required
         autocomplete="username">
  <label class="check"><input type="checkbox" name="remember" value="1" id="remember">
    Remember me for 30 days</label>
  <button id="login">Log in</button>
</form>
"""
    other = "dark" if theme == "light" else "light"
    body = f"""
{flashes_html(flashes)}
<div class="grid">
  <section class="card">
    <h2>Visits</h2>
    <div class="big" id="visits">{visits}</div>
    <p class="muted">Page views counted in the <code>prefs</code> session (a sealed
      <code>CookieStore</code> cookie: the whole session travels in the cookie).</p>
  </section>
  <section class="card">
    <h2>Account</h2>
    {account}
    <p class="muted">Logging in calls <code>regenerate_id()</code> (no session fixation);
      logging out calls <code>invalidate()</code>, which deletes the record and the cookie.</p>
  </section>
  <section class="card">
    <h2>Preferences</h2>
    <p>Theme: <strong id="theme">{esc(theme)}</strong></p>
    <form method="post" action="/theme">{token}
      <button id="toggle-theme" class="ghost">Switch to {other}</button></form>
    <p class="muted">Kept in the <code>prefs</code> cookie, so it survives logging out.</p>
  </section>
  {devices}
  {panel}
</div>
"""
    return layout("Home", theme, body)


def devices_panel(devices: Sequence[Any] | None, current: str | None, csrf: str) -> str:
    """The "Your devices" card: the user's live sessions (``store.sessions_for``), this one
    marked, and a button that ends all the others (``store.revoke(user, keep=session)``)."""
    if devices is None:
        return """<section class="card" id="devices"><h2>Your devices</h2>
<p class="muted">This store cannot list or revoke a user's sessions.</p></section>"""
    rows = "".join(
        f"<tr class='device{' current' if d.id_hash == current else ''}'>"
        f"<td>{esc(str(d.meta.get('user_agent', 'unknown device'))[:80])}"
        f"{' <strong>(this device)</strong>' if d.id_hash == current else ''}</td>"
        f"<td class='muted'>since {esc(when(d.created_at))}<br>last seen {esc(when(d.saved_at))}"
        "</td></tr>"
        for d in devices
    )
    others = sum(1 for d in devices if d.id_hash != current)
    token = f'<input type="hidden" name="csrf" value="{esc(csrf)}">'
    return f"""<section class="card" id="devices">
  <h2>Your devices</h2>
  <table id="device-list">{rows}</table>
  <p class="muted"><span id="device-count">{len(devices)}</span> session(s) from
    <code>store.sessions_for(user)</code>.</p>
  <form method="post" action="/logout-others">{token}
    <button id="logout-others" class="ghost"{"" if others else " disabled"}>Log out other
      devices</button></form>
  <p class="muted"><code>store.revoke(user, keep=this_session)</code> ends every other session
    of yours at once: their next request is logged out.</p>
</section>"""


def cookie_panel(request_cookies: Mapping[str, Sequence[str]], last_headers: Iterable[str]) -> str:
    sent = "".join(
        f"<tr><th><code>{esc(name)}</code></th><td><code>{esc(v[:48])}"
        f"{'…' if len(v) > 48 else ''}</code> <span class='muted'>({len(v)} chars)</span></td></tr>"
        for name, values in request_cookies.items()
        for v in values
    )
    headers = "\n".join(last_headers) or "(none: the last response changed no session)"
    return f"""
  <section class="card wide">
    <h2>Cookies</h2>
    <p class="muted">What your browser sent with this request:</p>
    {f"<table>{sent}</table>" if sent else '<p class="muted">(no cookies yet)</p>'}
    <p class="muted">The <code>Set-Cookie</code> headers of the previous response:</p>
    <pre id="last-set-cookie">{esc(headers)}</pre>
    <p class="muted"><a href="/debug">Decoded sessions and the last responses →</a></p>
  </section>"""


def session_card(title: str, store: str, info: Mapping[str, Any]) -> str:
    rows = "".join(
        f"<tr><th>{esc(k)}</th><td><code>{esc(v)}</code></td></tr>"
        for k, v in info.items()
        if k != "values"
    )
    return f"""
  <section class="card">
    <h2>{esc(title)}</h2>
    <p class="muted">{store}</p>
    <table>{rows}</table>
    <p class="muted">Values:</p>
    {render_values(info["values"])}
  </section>"""


def _set_cookie_lines(headers: Sequence[str]) -> str:
    return "\n".join(f"Set-Cookie: {h}" for h in headers) or "(no Set-Cookie)"


def debug_page(
    *,
    theme: str,
    cookie_header: str,
    sessions: Sequence[tuple[str, str, Mapping[str, Any]]],
    log: Sequence[tuple[float, str, str, str, Sequence[str]]],
) -> str:
    cards = "".join(session_card(t, s, i) for t, s, i in sessions)
    entries = "".join(
        f"<p><strong>{esc(method)} {esc(path)}</strong> → {esc(status)} "
        f"<span class='muted'>{esc(when(ts))}</span></p>"
        f"<pre class='set-cookie'>{esc(_set_cookie_lines(headers))}</pre>"
        for ts, method, path, status, headers in reversed(log)
    )
    body = f"""
<div class="grid">
  <section class="card wide">
    <h2>The request's Cookie header</h2>
    <pre id="cookie-header">{esc(cookie_header or "(none)")}</pre>
    <p class="muted">The cookies are <code>HttpOnly</code>: page scripts cannot read them
      (<code>document.cookie</code> is empty), so an XSS bug cannot steal a session.</p>
  </section>
  {cards}
  <section class="card wide">
    <h2>The last responses to this browser (newest first)</h2>
    {entries or '<p class="muted">(none yet)</p>'}
    <div class="note">These cookies have no <code>Secure</code> attribute because the demo is
      plain HTTP on localhost: it uses <code>CookieOptions(secure=False)</code>. websession's
      default is <code>secure=True</code>; keep it in production (HTTPS), where browsers then
      never send the session over an unencrypted connection.</div>
  </section>
</div>
"""
    return layout("Cookies & sessions", theme, body)


def error_page(theme: str, title: str, message: str) -> str:
    body = f"""<section class="card"><h2>{esc(title)}</h2><p>{esc(message)}</p>
<p><a href="/">Back to the demo</a></p></section>"""
    return layout(title, theme, body)

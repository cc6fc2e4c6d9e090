"""The example's views: Django's session and messages APIs over websession, plus "prefs"."""

from __future__ import annotations

from typing import Any

from common import page, pick_theme
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.middleware.csrf import get_token
from django.views.decorators.http import require_GET, require_POST

import websession


def _state(request: HttpRequest) -> dict[str, Any]:
    """Count this visit and collect what the page shows (messages are read once)."""
    session = request.session
    session["visits"] = session.get("visits", 0) + 1
    prefs = websession.get_session(request, "prefs")  # the second session (see wsgi.py)
    return {
        "visits": session["visits"],
        "user": session.get("user"),
        "browser_session": session.get_expire_at_browser_close(),
        "theme": prefs.get("theme", "light"),
        "messages": [str(m) for m in messages.get_messages(request)],
    }


@require_GET
def index(request: HttpRequest) -> HttpResponse:
    s = _state(request)
    # Django's messages in the page's flash list; each form carries the CSRF token.
    state = {**s, "flashes": s["messages"]}
    return HttpResponse(page("Django", state, remember_me=True, csrf_token=get_token(request)))


@require_GET
def api(request: HttpRequest) -> JsonResponse:
    """The same as ``/`` as JSON, plus a CSRF token for scripts that post forms."""
    return JsonResponse({**_state(request), "csrf": get_token(request)})


@require_GET
def whoami(request: HttpRequest) -> JsonResponse:
    """Who is logged in, without changing anything (``new``: no valid session came in)."""
    user = request.session.get("user")  # loads the session
    return JsonResponse({"user": user, "new": request.session.session_key is None})


@require_POST
def login(request: HttpRequest) -> HttpResponse:
    user = request.POST.get("user", "").strip()
    if not user:
        messages.error(request, "Give a name to log in.")
        return HttpResponseRedirect("/")
    # What django.contrib.auth.login() does: keep the data, issue a new key, delete the old
    # record. A session cookie planted before login is worthless afterwards (no fixation).
    request.session.cycle_key()
    request.session["user"] = user
    if request.POST.get("remember") != "1":
        request.session.set_expiry(0)  # a browser-session cookie; else SESSION_COOKIE_AGE
    messages.success(request, f"Welcome, {user}!")
    return HttpResponseRedirect("/")


@require_POST
def logout(request: HttpRequest) -> HttpResponse:
    # What django.contrib.auth.logout() does: delete the record, empty the session, new key.
    request.session.flush()
    return HttpResponseRedirect("/")


@require_POST
def prefs(request: HttpRequest) -> HttpResponse:
    theme = pick_theme(request.POST.get("theme"))
    websession.get_session(request, "prefs")["theme"] = theme  # saved in the "prefs" cookie
    messages.info(request, f"Theme: {theme}.")  # in request.session: two cookies, one response
    return HttpResponseRedirect("/")


async def async_counter(request: HttpRequest) -> JsonResponse:
    """An async view: Django's async session API, served by the store's async methods."""
    count = await request.session.aget("async_visits", 0) + 1
    await request.session.aset("async_visits", count)
    prefs = await websession.aget_session(request, "prefs")
    return JsonResponse({"async_visits": count, "theme": prefs.get("theme", "light")})

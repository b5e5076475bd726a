"""The token view: a fresh token for the signed-in session, for the JS client's reconnects."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from .tokens import token_for


@never_cache
@require_GET
def token(request: HttpRequest) -> JsonResponse:
    """GET -> {"token": "...", "expires": <unix seconds>} for request.user.

    A safe method that changes nothing, so no CSRF token is needed; other sites cannot read
    the answer (same-origin policy, no CORS headers), and it is never cached.
    """
    value, expires = token_for(request.user)
    return JsonResponse({"token": value, "expires": expires})

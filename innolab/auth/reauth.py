"""The ways a signed-in person can confirm who they are on the re-authentication page.

The page (`auth.reauthenticate`, templates/auth/reauthenticate.html) shows one section per
`Method` that `methods_for(user)` returns, each rendered from its own template. A way of
confirming is added by registering a function that returns the methods it offers for a
person (`register(fn)`); whatever it checks, on success it calls `web.mark_recent_auth()`
and sends the person on to `next` – nothing else is needed.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from ..domain import identities
from ..models import User


@dataclass
class Method:
    kind: str                  # "password", "provider", … (also the section's id)
    template: str              # the section of the page, included with `method` and `next`
    context: dict = field(default_factory=dict)


_FINDERS: list[Callable[[User], list[Method]]] = []


def register(finder: Callable[[User], list[Method]]) -> Callable[[User], list[Method]]:
    """Add a way of confirming (usable as a decorator); shown in the order registered."""
    _FINDERS.append(finder)
    return finder


def methods_for(user: User) -> list[Method]:
    return [method for finder in _FINDERS for method in finder(user)]


@register
def _password(user: User) -> list[Method]:
    if not user.password_hash or not identities.local_login_allowed(user):
        return []
    return [Method("password", "auth/_reauth_password.html")]


@register
def _providers(user: User) -> list[Method]:
    """A fresh sign-in at each linked provider that is still configured and allowed."""
    found = []
    for identity in identities.identities_of(user):
        provider = identities.get_provider(identity.provider)
        if provider is None or not identities.external_login_allowed(user, provider):
            continue
        found.append(Method("provider", "auth/_reauth_provider.html",
                            {"key": provider.key, "name": provider.display_name}))
    return found

"""Roles per org kind and the one permission check every service calls.

Areas add their permissions with :func:`grant` when their module is imported;
nothing else in Ofisi decides who may do what.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.actors import Actor
from core.errors import NotFound, PermissionDenied
from db.models import Membership, Org

KINDS: dict[str, str] = {
    "salon": "Salon or beauty professional",
    "chama": "Savings group (chama)",
    "agency": "Domestic-staffing agency",
    "campaigns": "MSME outreach programme",
    "community": "Innovation community",
}

# Roles per kind, most powerful first; the first role is the org's admin.
ROLES: dict[str, tuple[str, ...]] = {
    "salon": ("owner", "receptionist", "professional"),
    "chama": ("chair", "treasurer", "secretary"),
    "agency": ("admin", "agent"),
    "campaigns": ("admin", "officer", "viewer"),
    "community": ("admin", "manager", "moderator"),
}

PERMISSIONS: dict[str, dict[str, set[str]]] = {
    kind: {role: set() for role in roles} for kind, roles in ROLES.items()
}


def grant(kinds: str | Iterable[str], roles: str | Iterable[str], *perms: str) -> None:
    """Give ``perms`` to ``roles`` in ``kinds`` (``"*"`` means every kind or role)."""
    kind_list = list(ROLES) if kinds == "*" else [kinds] if isinstance(kinds, str) else list(kinds)
    for kind in kind_list:
        role_list = ROLES[kind] if roles == "*" else [roles] if isinstance(roles, str) else list(roles)
        for role in role_list:
            PERMISSIONS[kind][role].update(perms)


def admin_role(kind: str) -> str:
    return ROLES[kind][0]


# The shared core's own permissions.
grant("*", "*", "org.read", "contacts.read", "messages.read")
for _kind, _roles in ROLES.items():
    grant(_kind, _roles[0], "org.manage", "users.manage", "audit.read")
grant("salon", ("owner", "receptionist"), "contacts.write", "messages.send")
grant("chama", ("chair", "treasurer", "secretary"), "contacts.write", "messages.send")
grant("agency", ("admin", "agent"), "contacts.write", "messages.send")
grant("campaigns", ("admin", "officer"), "contacts.write", "messages.send")
grant("community", ("admin", "manager"), "contacts.write", "messages.send")


def allows(kind: str, role: str, permission: str) -> bool:
    """Whether ``role`` in an org of ``kind`` may do ``permission`` (for showing actions)."""
    return permission in PERMISSIONS.get(kind, {}).get(role, set())


def role_of(session: Session, actor: Actor, org_id: int) -> str | None:
    if actor.user_id is None:
        return None
    return session.scalar(
        select(Membership.role).where(Membership.user_id == actor.user_id, Membership.org_id == org_id)
    )


def require(session: Session, actor: Actor, org: int | Org, permission: str) -> Org:
    """Return the org if ``actor`` may do ``permission`` there; refuse otherwise.

    Staff who are not members of the org are told it does not exist, so one
    org's staff cannot even learn which other orgs there are.
    """
    if isinstance(org, Org):
        org_row: Org | None = org
    else:
        org_row = session.get(Org, org)
    if org_row is None:
        raise NotFound("That organisation does not exist.")
    if actor.system:
        return org_row
    role = role_of(session, actor, org_row.id)
    if role is None:
        raise NotFound("That organisation does not exist.")
    if not allows(org_row.kind, role, permission):
        raise PermissionDenied(
            f"A {role} of {org_row.name} may not do this ({permission}); ask the {admin_role(org_row.kind)}."
        )
    return org_row

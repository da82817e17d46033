"""A login is its holder's: one org's admin adding it to their org never takes it over."""

from __future__ import annotations

import pytest

from core.actors import Actor
from core.errors import AuthenticationFailed, PermissionDenied
from core.users import add_user, authenticate, set_password
from db.models import AuditEntry, Membership
from tests.test_cli import ofisi_here  # noqa: F401  (fixture)

CHAIR = "wanjiku@umoja.example"


@pytest.fixture
def two_chamas(session, make_org, cli_actor):
    umoja, jamii = make_org(session, "chama", slug="umoja"), make_org(session, "chama", slug="jamii")
    add_user(session, cli_actor, CHAIR, org_id=umoja.id, role="chair", name="Wanjiku", phone="0712345678",
             password="chair-own-password")
    rogue = add_user(session, cli_actor, "rogue@jamii.example", org_id=jamii.id, role="chair",
                     password="rogue-password")
    return umoja, jamii, Actor.staff(rogue.id, rogue.email)


def test_another_orgs_admin_adds_a_membership_and_the_password_stays(session, two_chamas):
    umoja, jamii, rogue = two_chamas
    view = add_user(session, rogue, CHAIR, org_id=jamii.id, role="treasurer", name="Someone Else",
                    phone="0799999999", password="taken-over-now")
    assert (view.created, view.joined, view.role_was) == (False, True, None)
    assert (view.name, view.phone) == ("Wanjiku", "+254712345678")  # the login's own details stay
    with pytest.raises(AuthenticationFailed):
        authenticate(session, CHAIR, "taken-over-now")
    signed_in = authenticate(session, CHAIR, "chair-own-password")
    assert {(m.org.slug, m.role) for m in signed_in.memberships} == {("umoja", "chair"), ("jamii", "treasurer")}
    actions = set(session.scalars(AuditEntry.__table__.select().with_only_columns(AuditEntry.action)
                                  .where(AuditEntry.entity_id == str(view.id))))
    assert "user.password" not in actions and "user.update" not in actions

    with pytest.raises(PermissionDenied, match="theirs to turn on or off"):
        add_user(session, rogue, CHAIR, org_id=jamii.id, role="treasurer", otp=False)
    with pytest.raises(PermissionDenied, match="Only the login itself"):
        set_password(session, rogue, CHAIR, "taken-over-now")
    assert authenticate(session, CHAIR, "chair-own-password").user.id == view.id


def test_an_admin_of_every_org_of_the_login_may_rename_it(session, two_chamas, cli_actor):
    umoja, jamii, rogue = two_chamas
    clerk = add_user(session, rogue, "clerk@jamii.example", org_id=jamii.id, role="secretary", name="Clerk")
    assert clerk.created and clerk.joined
    again = add_user(session, rogue, "clerk@jamii.example", org_id=jamii.id, role="treasurer", name="Clerk Two",
                     password="not-applied-here")
    assert (again.created, again.joined, again.role_was, again.name) == (False, False, "secretary", "Clerk Two")
    with pytest.raises(AuthenticationFailed):
        authenticate(session, "clerk@jamii.example", "not-applied-here")


def test_the_login_itself_or_the_operator_changes_the_password(session, two_chamas, cli_actor):
    _umoja, _jamii, _rogue = two_chamas
    chair_id = authenticate(session, CHAIR, "chair-own-password").user.id
    chair = Actor.staff(chair_id, CHAIR)
    with pytest.raises(AuthenticationFailed, match="current password"):
        set_password(session, chair, CHAIR, "my-new-password", current_password="guess")
    set_password(session, chair, CHAIR, "my-new-password", current_password="chair-own-password")
    assert authenticate(session, CHAIR, "my-new-password").user.id == chair_id
    set_password(session, cli_actor, CHAIR, "operator-reset")
    assert authenticate(session, CHAIR, "operator-reset").user.id == chair_id
    assert session.query(Membership).filter_by(user_id=chair_id).count() == 1


def test_cli_user_add_says_the_password_is_unchanged(ofisi_here):
    ofisi = ofisi_here
    for slug in ("umoja", "jamii"):
        assert ofisi("org", "create", slug, "--kind", "chama", "--name", slug.title()).returncode == 0
    first = ofisi("user", "add", CHAIR, "--org", "umoja", "--role", "chair", "--password-stdin",
                  stdin="chair-own-password\n")
    assert first.returncode == 0 and first.stderr == f"{CHAIR} is now chair of Umoja.\n"
    again = ofisi("user", "add", CHAIR, "--org", "jamii", "--role", "treasurer", "--password-stdin",
                  stdin="someone-elses\n")
    assert again.returncode == 0, again.stderr
    assert again.stderr == f"{CHAIR} already has a login; added as treasurer of Jamii; their password is unchanged.\n"
    moved = ofisi("user", "add", CHAIR, "--org", "jamii", "--role", "secretary")
    assert "now secretary of Jamii (was treasurer); their password is unchanged" in moved.stderr
    bare = ofisi("user", "add", "new@jamii.example", "--org", "jamii", "--role", "chair")
    assert "with no password yet" in bare.stderr and "ofisi user password new@jamii.example" in bare.stderr
    reset = ofisi("user", "password", CHAIR, "--password-stdin", stdin="operator-reset\n")
    assert reset.returncode == 0 and reset.stderr == f"{CHAIR} has a new password.\n"
    assert ofisi("user", "password", CHAIR, "--password-stdin", stdin="short\n").returncode == 1

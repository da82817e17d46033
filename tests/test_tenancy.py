"""Staff of one org can never read or change another org's contacts."""

import pytest

from core import contacts
from core.errors import NotFound, PermissionDenied
from core.users import add_user


@pytest.fixture
def two_orgs(session, make_org, cli_actor):
    a = make_org(session, "salon", slug="org-a")
    b = make_org(session, "salon", slug="org-b")
    alice = add_user(session, cli_actor, "alice@a.example", org_id=a.id, role="owner", password="password-a")
    bob = add_user(session, cli_actor, "bob@b.example", org_id=b.id, role="owner", password="password-b")
    from core.actors import Actor

    theirs = contacts.add_contact(session, cli_actor, b.id, name="Bob's client", phone="0722000001")
    return a, b, Actor.staff(alice.id, alice.email), Actor.staff(bob.id, bob.email), theirs


def test_own_org_works(session, two_orgs):
    a, _b, alice, _bob, _theirs = two_orgs
    mine = contacts.add_contact(session, alice, a.id, name="Wanjiku", phone="0712345678")
    assert [c.id for c in contacts.list_contacts(session, alice, a.id)] == [mine.id]


@pytest.mark.parametrize(
    "call",
    [
        lambda s, actor, org, cid: contacts.list_contacts(s, actor, org),
        lambda s, actor, org, cid: contacts.count_contacts(s, actor, org),
        lambda s, actor, org, cid: contacts.get_contact(s, actor, org, cid),
        lambda s, actor, org, cid: contacts.find_by_phone(s, actor, org, "0722000001"),
        lambda s, actor, org, cid: contacts.add_contact(s, actor, org, name="X", phone="0733000000"),
        lambda s, actor, org, cid: contacts.upsert_contact(s, actor, org, name="X", phone="0733000000"),
        lambda s, actor, org, cid: contacts.update_contact(s, actor, org, cid, name="Hacked"),
        lambda s, actor, org, cid: contacts.delete_contact(s, actor, org, cid),
    ],
    ids=["list", "count", "get", "find", "add", "upsert", "update", "delete"],
)
def test_other_orgs_contacts_are_out_of_reach(session, two_orgs, call):
    a, b, alice, _bob, theirs = two_orgs
    # Naming the other org directly: it does not exist for Alice.
    with pytest.raises(NotFound):
        call(session, alice, b.id, theirs.id)
    # Nothing of Bob's changed.
    assert contacts.get_contact(session, _bob, b.id, theirs.id).name == "Bob's client"
    assert contacts.count_contacts(session, _bob, b.id) == 1


def test_contact_of_other_org_by_id_is_not_found(session, two_orgs):
    a, _b, alice, _bob, theirs = two_orgs
    for fn in (contacts.get_contact, contacts.delete_contact):
        with pytest.raises(NotFound):
            fn(session, alice, a.id, theirs.id)
    with pytest.raises(NotFound):
        contacts.update_contact(session, alice, a.id, theirs.id, name="Hacked")


def test_role_without_write_permission_is_refused(session, make_org, cli_actor):
    org = make_org(session, "campaigns")
    from core.actors import Actor

    viewer = add_user(session, cli_actor, "v@c.example", org_id=org.id, role="viewer", password="password-v")
    actor = Actor.staff(viewer.id, viewer.email)
    assert contacts.list_contacts(session, actor, org.id) == []
    with pytest.raises(PermissionDenied, match="viewer"):
        contacts.add_contact(session, actor, org.id, name="X", phone="0712345678")


def test_other_orgs_messages_are_out_of_reach(session, two_orgs, cli_actor):
    from core import outbox

    a, b, alice, bob, _theirs = two_orgs
    message = outbox.send_message(session, bob, b.id, to="0722000001", body="For Bob's client only")
    for call in (
        lambda: outbox.list_messages(session, alice, b.id),
        lambda: outbox.status_counts(session, alice, b.id),
        lambda: outbox.send_message(session, alice, b.id, to="0722000001", body="spoofed"),
        lambda: outbox.settle_unknown(session, alice, b.id, message.id, sent=True),
        lambda: outbox.settle_unknown(session, alice, a.id, message.id, sent=True),
    ):
        with pytest.raises(NotFound):
            call()
    assert outbox.list_messages(session, alice, a.id) == []
    assert [m.id for m in outbox.list_messages(session, bob, b.id)] == [message.id]


def test_removed_membership_stops_working_at_once(session, two_orgs):
    from sqlalchemy import delete

    from db.models import Membership

    a, _b, alice, _bob, _theirs = two_orgs
    assert contacts.list_contacts(session, alice, a.id) == []
    session.execute(delete(Membership).where(Membership.user_id == alice.user_id))
    with pytest.raises(NotFound):
        contacts.list_contacts(session, alice, a.id)


def test_staff_see_only_their_orgs(session, two_orgs, cli_actor):
    from core.orgs import get_org, list_orgs

    a, b, alice, _bob, _theirs = two_orgs
    assert [o.slug for o in list_orgs(session, alice)] == ["org-a"]
    assert {o.slug for o in list_orgs(session, cli_actor)} >= {"org-a", "org-b"}
    with pytest.raises(NotFound):
        get_org(session, alice, "org-b")

"""Administrators manage staff accounts of their own council; role changes are audited."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from participation.accounts.models import Role, StaffUser
from participation.audit import AuditAction, AuditEvent
from participation.outbox import OutboxEmail


def _emails_to(db_tx, address):
    return list(db_tx.scalars(select(OutboxEmail).where(OutboxEmail.to_address == address)))


def test_admin_invites_a_new_person_without_choosing_their_password(client, post, login_as, db_tx):
    login_as(Role.ADMIN)
    response = post(
        "/staff/users/new",
        {
            "email": "New.Person@Test.Example",
            "display_name": "New Person",
            "password": "the administrator does not choose it",
            "roles": ["service_responder", "panel_member"],
        },
    )
    assert response.status_code == 302
    user = db_tx.scalar(select(StaffUser).where(StaffUser.email == "new.person@test.example"))
    assert user.roles == {Role.SERVICE_RESPONDER, Role.PANEL_MEMBER}
    # No password anyone knows: the person chooses one from the emailed link.
    assert not user.password_hash.startswith("$argon2")
    (invite,) = _emails_to(db_tx, "new.person@test.example")
    assert "http://localhost/sign-in/welcome/" in invite.body
    assert "the administrator does not choose it" not in invite.body
    page = client.get(f"/staff/users/{user.id}").get_data(as_text=True)
    assert "Not yet: invited" in page
    assert 'name="password"' not in client.get("/staff/users/new").get_data(as_text=True)


def test_invalid_account_form_keeps_what_was_typed(post, login_as):
    login_as(Role.ADMIN)
    response = post(
        "/staff/users/new",
        {"email": "not-an-email", "display_name": "Kept Name", "roles": []},
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "There is a problem" in page
    assert 'value="Kept Name"' in page
    assert "Choose at least one role" in page


def test_role_change_is_audited_and_signs_the_person_out(
    app, client, post, login_as, make_user, db_tx
):
    admin = login_as(Role.ADMIN)
    target = make_user(Role.PANEL_MEMBER)
    old_id = target.get_id()
    response = post(
        f"/staff/users/{target.id}/roles",
        {"roles": ["service_responder"]},
        page=f"/staff/users/{target.id}",
    )
    assert response.status_code == 302
    db_tx.expire_all()
    assert target.roles == {Role.SERVICE_RESPONDER}
    assert target.get_id() != old_id
    event = db_tx.scalar(select(AuditEvent).where(AuditEvent.action == AuditAction.ROLES_CHANGED))
    assert event.actor_id == admin.id and event.target_id == target.id
    assert event.detail == {"before": ["panel_member"], "after": ["service_responder"]}


def test_admin_cannot_remove_their_own_admin_role(post, login_as, db_tx):
    admin = login_as(Role.ADMIN)
    response = post(
        f"/staff/users/{admin.id}/roles",
        {"roles": ["panel_member"]},
        page=f"/staff/users/{admin.id}",
    )
    assert response.status_code == 422
    db_tx.expire_all()
    assert Role.ADMIN in admin.roles


def test_another_councils_account_is_not_found(client, login_as, make_user, other_council):
    login_as(Role.ADMIN)
    stranger = make_user(Role.PANEL_MEMBER, council_id=other_council.id)
    assert client.get(f"/staff/users/{stranger.id}").status_code == 404


def test_deactivated_account_is_signed_out(app, client, post, login_as, make_user, db_tx):
    login_as(Role.ADMIN)
    target = make_user(Role.PANEL_MEMBER)
    post(f"/staff/users/{target.id}/active", {}, page=f"/staff/users/{target.id}")
    db_tx.expire_all()
    assert target.active is False
    assert AuditAction.USER_DEACTIVATED in list(db_tx.scalars(select(AuditEvent.action)))


@pytest.mark.parametrize("role", [Role.SAFEGUARDING_LEAD, Role.PARTICIPATION_WORKER])
def test_an_admin_cannot_give_themselves_a_role_that_reads_childrens_words(
    client, post, login_as, db_tx, role
):
    admin = login_as(Role.ADMIN)
    response = post(
        f"/staff/users/{admin.id}/roles",
        {"roles": ["admin", role.value]},
        page=f"/staff/users/{admin.id}",
    )
    assert response.status_code == 422
    assert "another administrator must give it to you" in response.get_data(as_text=True)
    db_tx.expire_all()
    assert admin.roles == {Role.ADMIN}
    assert client.get("/safeguarding/alerts").status_code == 403


def test_another_admin_grants_it_and_every_lead_is_told(post, login_as, make_user, db_tx):
    granter = login_as(Role.ADMIN)
    other_admin = make_user(Role.ADMIN)
    lead_one = make_user(Role.SAFEGUARDING_LEAD)
    lead_two = make_user(Role.SAFEGUARDING_LEAD, Role.PANEL_MEMBER)
    response = post(
        f"/staff/users/{other_admin.id}/roles",
        {"roles": ["admin", "safeguarding_lead"]},
        page=f"/staff/users/{other_admin.id}",
    )
    assert response.status_code == 302
    db_tx.expire_all()
    assert Role.SAFEGUARDING_LEAD in other_admin.roles
    for lead in (lead_one, lead_two):
        (told,) = _emails_to(db_tx, lead.email)
        assert "can now read children's words" in told.subject
        assert other_admin.email in told.body and granter.email in told.body
        assert "Designated safeguarding lead" in told.body
    # The new lead is a lead too, and is told as well.
    assert len(_emails_to(db_tx, other_admin.email)) == 1


def test_a_role_that_does_not_read_childrens_words_tells_no_lead(post, login_as, make_user, db_tx):
    login_as(Role.ADMIN)
    lead = make_user(Role.SAFEGUARDING_LEAD)
    target = make_user(Role.PANEL_MEMBER)
    post(
        f"/staff/users/{target.id}/roles",
        {"roles": ["service_responder"]},
        page=f"/staff/users/{target.id}",
    )
    assert _emails_to(db_tx, lead.email) == []


def test_inviting_a_worker_tells_every_lead(post, login_as, make_user, db_tx):
    login_as(Role.ADMIN)
    lead = make_user(Role.SAFEGUARDING_LEAD)
    post(
        "/staff/users/new",
        {"email": "w@test.example", "display_name": "W", "roles": ["participation_worker"]},
    )
    (told,) = _emails_to(db_tx, lead.email)
    assert "w@test.example" in told.body

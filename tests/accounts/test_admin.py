"""Administrators manage staff accounts of their own council; role changes are audited."""

from __future__ import annotations

from sqlalchemy import select

from participation.accounts.models import Role, StaffUser
from participation.audit import AuditAction, AuditEvent


def test_admin_creates_an_account(client, post, login_as, db_tx):
    login_as(Role.ADMIN)
    response = post(
        "/staff/users/new",
        {
            "email": "New.Person@Test.Example",
            "display_name": "New Person",
            "password": "a sufficiently long password",
            "roles": ["service_responder", "panel_member"],
        },
    )
    assert response.status_code == 302
    user = db_tx.scalar(select(StaffUser).where(StaffUser.email == "new.person@test.example"))
    assert user.roles == {Role.SERVICE_RESPONDER, Role.PANEL_MEMBER}
    assert user.password_hash.startswith("$argon2id$")


def test_invalid_account_form_keeps_what_was_typed(post, login_as):
    login_as(Role.ADMIN)
    response = post(
        "/staff/users/new",
        {"email": "not-an-email", "display_name": "Kept Name", "password": "short", "roles": []},
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

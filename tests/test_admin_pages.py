"""Issue #10, Admin: admins administer users, organizations and services from the browser; every change is audited;
a reset password must be replaced at the next sign-in; every other role gets 403 on every admin page."""

from __future__ import annotations

import re

import sqlalchemy as sa
from helpers import PASSWORD, counting, csrf_token_of, text

from ceasefire.extensions import db
from ceasefire.models import AuditEvent, Organization, Service, User, UserSession
from ceasefire.models.enums import OrgKind, Role


def audit_rows(action: str, object_type: str) -> list[tuple]:
    with db.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(
            sa.select(AuditEvent.user_id, AuditEvent.object_id, AuditEvent.detail)
            .where(AuditEvent.action == action, AuditEvent.object_type == object_type).order_by(AuditEvent.id)
        )]


def temporary_of(html: str) -> str:
    return re.search(r'<code class="secret">([^<]+)</code>', html).group(1)


def test_an_admin_lands_on_the_admin_pages(client, auth, users):
    response = auth.login(users["admin"])
    assert response.headers["Location"] == "/admin/"
    page = text(client.get("/admin/"))
    assert "Administration" in page
    for link in ('href="/admin/users/"', 'href="/admin/organizations/"', 'href="/admin/services/"'):
        assert link in page
    assert "/participants/" not in page  # no link to case data in an admin's navigation


def test_an_admin_adds_a_user_who_must_choose_a_password(client, auth, users, make_org, app):
    admin = users["admin"]
    org = make_org(OrgKind.PROVIDER, "Hope Jobs")
    auth.login(admin)
    response = client.post("/admin/users/new", data={
        "name": "Dana Rivera", "email": "dana@hopejobs.example", "role": "provider", "organization_id": str(org.id),
    })
    assert response.status_code == 200
    temporary = temporary_of(text(response))
    dana = db.session.scalar(sa.select(User).where(User.email == "dana@hopejobs.example"))
    assert (dana.name, dana.role, dana.organization_id, dana.must_change_password) == (
        "Dana Rivera", Role.PROVIDER, org.id, True)
    assert audit_rows("create", "user")[-1] == (admin.id, dana.id, "role=provider")

    other = app.test_client()
    first = other.post("/login", data={"email": "dana@hopejobs.example", "password": temporary})
    assert first.headers["Location"] == "/profile/new-password"
    # Nothing else before the new password: every page leads back to it.
    assert other.get("/referrals/").headers["Location"] == "/profile/new-password"
    same = other.post("/profile/new-password", data={"new_password": temporary, "confirm": temporary})
    assert same.status_code == 422
    assert "not the one you were given" in text(same)
    done = other.post("/profile/new-password", data={"new_password": PASSWORD, "confirm": PASSWORD})
    assert done.headers["Location"] == "/"
    db.session.refresh(dana)
    assert dana.must_change_password is False
    assert other.get("/referrals/").status_code == 200
    assert audit_rows("password_change", "user")[-1] == (dana.id, dana.id, "new password after a reset")


def test_a_provider_needs_a_provider_organization(client, auth, users, make_org):
    community = make_org(OrgKind.COMMUNITY, "Mothers Against Violence")
    auth.login(users["admin"])
    before = db.session.scalar(sa.select(sa.func.count(User.id)))
    response = client.post("/admin/users/new", data={
        "name": "Sam Cole", "email": "sam@example.org", "role": "provider", "organization_id": str(community.id),
    })
    assert response.status_code == 422
    assert "must belong to a provider organization" in text(response)
    assert db.session.scalar(sa.select(sa.func.count(User.id))) == before


def test_an_admin_changes_a_role_and_the_user_is_signed_out(client, auth, users, app):
    admin, caseworker = users["admin"], users["caseworker"]
    theirs = app.test_client()
    auth.login(caseworker, client=theirs)
    assert theirs.get("/participants/").status_code == 200
    auth.login(admin)
    page = text(client.get(f"/admin/users/{caseworker.id}"))
    assert caseworker.email in page
    response = client.post(f"/admin/users/{caseworker.id}", data={"role": "supervisor", "organization_id": ""})
    assert response.status_code == 302
    assert "Test caseworker is now a supervisor." in text(client.get(response.headers["Location"]))
    db.session.refresh(caseworker)
    assert caseworker.role == Role.SUPERVISOR
    assert audit_rows("role_change", "user")[-1] == (admin.id, caseworker.id, "caseworker->supervisor")
    assert theirs.get("/participants/").headers["Location"].startswith("/login")


def test_an_admin_moves_a_user_to_another_organization(client, auth, users, make_org):
    provider = users["provider"]
    before = provider.organization.name
    other = make_org(OrgKind.PROVIDER, "Westside Behavioral Health")
    auth.login(users["admin"])
    response = client.post(f"/admin/users/{provider.id}", data={"role": "provider", "organization_id": str(other.id)})
    assert response.status_code == 302
    assert "Test provider works for Westside Behavioral Health." in text(client.get(response.headers["Location"]))
    db.session.refresh(provider)
    assert provider.organization_id == other.id
    assert audit_rows("update", "user")[-1] == (
        users["admin"].id, provider.id, f"organization {before} -> Westside Behavioral Health")


def test_deactivate_and_reactivate(client, auth, users, app):
    police = users["police"]
    theirs = app.test_client()
    auth.login(police, client=theirs)
    auth.login(users["admin"])
    response = client.post(f"/admin/users/{police.id}/deactivate")
    assert response.status_code == 302
    assert "is deactivated and signed out" in text(client.get(response.headers["Location"]))
    db.session.refresh(police)
    assert police.active is False
    assert db.session.scalar(sa.select(sa.func.count(UserSession.id)).where(UserSession.user_id == police.id)) == 0
    assert theirs.get("/participants/").headers["Location"].startswith("/login")
    assert auth.login(police, client=app.test_client()).status_code == 200  # refused: the form again
    client.post(f"/admin/users/{police.id}/reactivate")
    db.session.refresh(police)
    assert police.active is True
    assert [r[2] for r in audit_rows("update", "user")][-2:] == ["deactivated", "activated"]
    assert auth.login(police, client=app.test_client()).status_code == 302


def test_an_admin_may_not_deactivate_or_demote_themselves(client, auth, users):
    admin = users["admin"]
    auth.login(admin)
    assert client.post(f"/admin/users/{admin.id}/deactivate").status_code == 422
    demoted = client.post(f"/admin/users/{admin.id}", data={"role": "caseworker", "organization_id": ""})
    assert demoted.status_code == 422
    assert "You cannot change the role of yourself" in text(demoted)
    db.session.refresh(admin)
    assert (admin.active, admin.role) == (True, Role.ADMIN)


def test_a_reset_password_must_be_replaced_at_the_next_sign_in(client, auth, users, app):
    admin, caseworker = users["admin"], users["caseworker"]
    theirs = app.test_client()
    auth.login(caseworker, client=theirs)
    auth.login(admin)
    response = client.post(f"/admin/users/{caseworker.id}/reset-password")
    assert response.status_code == 200
    temporary = temporary_of(text(response))
    assert audit_rows("password_change", "user")[-1] == (admin.id, caseworker.id, "reset by an admin")
    assert theirs.get("/participants/").headers["Location"].startswith("/login")  # signed out at once
    assert auth.login(caseworker, client=app.test_client()).status_code == 200  # the old password is gone
    fresh = app.test_client()
    assert auth.login(caseworker, temporary, client=fresh).headers["Location"] == "/profile/new-password"
    assert fresh.get("/forums/").headers["Location"] == "/profile/new-password"
    assert "Choose a new password" in text(fresh.get("/profile/new-password"))
    new = "a brand new passphrase of mine"
    assert fresh.post("/profile/new-password", data={"new_password": new, "confirm": new}).status_code == 302
    assert fresh.get("/forums/").status_code == 200
    assert auth.login(caseworker, new, client=app.test_client()).status_code == 302


def test_a_reset_password_revokes_the_users_api_tokens(client, auth, users, api_as):
    """A reset answers a password someone else may know: a token made with it stops working at once, and each
    revocation is in the audit trail under the admin's name. Another user's token goes on working."""
    admin, caseworker, police = users["admin"], users["caseworker"], users["police"]
    theirs, other = api_as(caseworker), api_as(police)
    assert theirs.get("/participants")[0] == 200
    auth.login(admin)
    page = text(client.post(f"/admin/users/{caseworker.id}/reset-password"))
    assert "API tokens are revoked" in page
    status, body = theirs.get("/participants")
    assert (status, body["error"]["code"]) == (401, "unauthorized")
    assert [row[0] for row in audit_rows("token_revoke", "api_token")] == [admin.id]
    assert other.get("/participants")[0] == 200


def test_users_list_searches_and_filters(client, auth, users):
    auth.login(users["admin"])
    page = text(client.get("/admin/users/"))
    assert "6 users." in page
    page = text(client.get("/admin/users/", query_string={"role": "police"}))
    assert "1 user found." in page
    assert users["police"].email in page
    assert users["caseworker"].email not in page
    page = text(client.get("/admin/users/", query_string={"q": users["provider"].email.upper()}))
    assert "1 user found." in page
    users["police"].name = "ÉLODIE NÚÑEZ"  # capitals beyond ASCII: found in any case on both databases
    db.session.commit()
    for q in ("élodie", "NÚÑEZ", "ú"):
        page = text(client.get("/admin/users/", query_string={"q": q}))
        assert "1 user found." in page, q
        assert users["police"].email in page
    assert client.get("/admin/users/", query_string={"role": "chief"}).status_code == 422


def test_a_user_search_pages_its_matches_by_name_whether_few_or_many(client, auth, users):
    """A search that finds few users sorts them, one that finds many walks the name order (services/directory.py):
    either way its pages hold every match once, by name (any case) then id."""
    names = ["Ana Banda", "Bo Lee", "Zed Quinn", "Ann Dunn", "Mo Ali"] * 26 + ["Dana Reyes", "dana reyes",
                                                                               "Jordana Ruiz", "DANA Abe"]
    hash_ = users["admin"].password_hash
    db.session.add_all(User(email=f"user{i}@example.org", name=name, role=Role.CASEWORKER, password_hash=hash_)
                       for i, name in enumerate(names))
    db.session.add(User(email="dana.dunn@example.org", name="Pat Dunn", role=Role.CASEWORKER, password_hash=hash_))
    db.session.commit()
    everyone = db.session.execute(sa.select(User.id, User.name, User.email)).all()
    auth.login(users["admin"])
    for q, many in (("DANA", False), ("an", True)):
        expected = [i for i, name, email in sorted(everyone, key=lambda row: (row.name.lower(), row.id))
                    if q.lower() in name.lower() or q.lower() in email.lower()]
        assert (len(expected) * 10 >= len(everyone)) is many  # the walk, or the sort
        shown: list[int] = []
        for page in range(1, len(expected) // 50 + 2):
            html = client.get("/admin/users/", query_string={"q": q, "page": page}).get_data(as_text=True)
            shown += [int(i) for i in re.findall(r'<th scope="row"><a href="/admin/users/(\d+)"', html)]
        assert shown == expected


def test_organizations_and_services_lists_search_part_of_a_name(client, auth, users, make_org, make_service):
    hope = make_org(OrgKind.PROVIDER, "Hope Jobs Center")
    make_org(OrgKind.COMMUNITY, "Watts Peacekeepers")
    odd = make_org(OrgKind.PROVIDER, "50% Off_Housing")
    make_service(hope, name="Resume clinic")
    make_service(odd, name="Rent help")
    make_service(make_org(OrgKind.PROVIDER, "Second Chance"), name="Job readiness")
    auth.login(users["admin"])
    page = text(client.get("/admin/organizations/", query_string={"q": "PEACE"}))
    assert "1 organization found." in page
    assert "Watts Peacekeepers" in page
    assert "Hope Jobs Center" not in page
    # % and _ are letters like any other, not wildcards
    page = text(client.get("/admin/organizations/", query_string={"q": "0% off_"}))
    assert "1 organization found." in page
    assert "50% Off_Housing" in page
    assert "No organizations match." in text(client.get("/admin/organizations/", query_string={"q": "o%o"}))
    # a service by its own name or by its provider's
    page = text(client.get("/admin/services/", query_string={"q": "job"}))
    assert "2 services found." in page
    assert "Resume clinic" in page  # its provider is Hope Jobs Center
    assert "Job readiness" in page
    assert "Rent help" not in page
    assert 'href="/admin/services/">Clear</a>' in page
    too_long = client.get("/admin/services/", query_string={"q": "x" * 500})
    assert too_long.status_code == 422
    assert "Field cannot be longer than" in text(too_long)
    assert client.get("/admin/organizations/", query_string={"q": "x" * 500}).status_code == 422


def test_organizations_with_their_hsds_fields(client, auth, users):
    admin = users["admin"]
    auth.login(admin)
    data = {"name": "Hope Jobs", "kind": "provider", "description": "Transitional jobs.",
            "email": "intake@hopejobs.example", "phone": "(312) 555-0142", "url": "https://hopejobs.example"}
    assert client.post("/admin/organizations/new", data=data).status_code == 302
    org = db.session.scalar(sa.select(Organization).where(Organization.name == "Hope Jobs"))
    assert (org.kind, org.description, org.email, org.phone, org.url) == (
        OrgKind.PROVIDER, "Transitional jobs.", "intake@hopejobs.example", "(312) 555-0142", "https://hopejobs.example")
    listing = text(client.get("/admin/organizations/"))
    assert "Hope Jobs" in listing
    assert "intake@hopejobs.example" in listing
    response = client.post(f"/admin/organizations/{org.id}", data=data | {"phone": "(312) 555-0199"})
    assert response.status_code == 302
    db.session.refresh(org)
    assert org.phone == "(312) 555-0199"
    assert audit_rows("update", "organization") == [(admin.id, org.id, "phone")]
    bad = client.post(f"/admin/organizations/{org.id}", data=data | {"url": "not a web address", "name": ""})
    assert bad.status_code == 422
    db.session.refresh(org)
    assert org.name == "Hope Jobs"


def test_an_organization_with_services_stays_a_provider(client, auth, users, make_service):
    service = make_service(name="GED classes")
    org = service.organization
    auth.login(users["admin"])
    response = client.post(f"/admin/organizations/{org.id}", data={"name": org.name, "kind": "community"})
    assert response.status_code == 422
    assert "stays a provider" in text(response)
    db.session.refresh(org)
    assert org.kind == OrgKind.PROVIDER


def test_services_with_their_hsds_fields(client, auth, users, make_org):
    admin = users["admin"]
    provider = make_org(OrgKind.PROVIDER, "Hope Jobs")
    community = make_org(OrgKind.COMMUNITY, "Street Outreach")
    auth.login(admin)
    data = {"organization_id": str(provider.id), "name": "Transitional jobs", "category": "employment",
            "description": "Paid work, six months.", "eligibility": "18 to 30.", "capacity": "12", "active": "y"}
    assert client.post("/admin/services/new", data=data).status_code == 302
    service = db.session.scalar(sa.select(Service).where(Service.name == "Transitional jobs"))
    assert (service.organization_id, service.category, service.description, service.eligibility, service.capacity,
            service.active) == (provider.id, "employment", "Paid work, six months.", "18 to 30.", 12, True)
    page = text(client.get("/admin/services/"))
    assert "Transitional jobs" in page
    assert "Hope Jobs" in page
    off = {k: v for k, v in data.items() if k != "active"} | {"capacity": "10"}
    assert client.post(f"/admin/services/{service.id}", data=off).status_code == 302
    db.session.refresh(service)
    assert (service.capacity, service.active) == (10, False)
    assert audit_rows("update", "service") == [(admin.id, service.id, "capacity,active")]
    refused = client.post(f"/admin/services/{service.id}", data=data | {"organization_id": str(community.id)})
    assert refused.status_code == 422
    assert client.post(f"/admin/services/{service.id}", data=data | {"capacity": "-1"}).status_code == 422
    db.session.refresh(service)
    assert (service.organization_id, service.capacity) == (provider.id, 10)


def test_missing_records_are_404_for_the_admin(client, auth, users):
    auth.login(users["admin"])
    for path in ("/admin/users/987654", "/admin/organizations/987654", "/admin/services/987654"):
        assert client.get(path).status_code == 404, path


def test_the_new_password_page_is_only_for_a_reset_password(client, auth, users):
    """A user whose password was not reset changes it on the usual page, with their current password."""
    auth.login(users["caseworker"])
    response = client.get("/profile/new-password")
    assert response.headers["Location"] == "/profile/password"
    posted = client.post("/profile/new-password", data={"new_password": "x" * 20, "confirm": "x" * 20})
    assert posted.headers["Location"] == "/profile/password"
    assert auth.login(users["caseworker"], client=client.application.test_client()).status_code == 302


def _statements(client, path: str) -> int:
    db.session.expunge_all()
    with counting() as seen:
        assert client.get(path).status_code == 200, path
    return len(seen)


def test_the_admin_lists_cost_the_same_at_any_size(client, auth, users, make_org, make_user, make_service):
    auth.login(users["admin"])
    paths = ("/admin/users/", "/admin/organizations/", "/admin/services/", "/admin/users/?q=test",
             "/admin/organizations/?q=org", "/admin/services/?q=job")
    client.get("/admin/")  # a session's last use is written at most once a minute: not what is counted
    counts: dict[str, list[int]] = {path: [] for path in paths}
    for size in (3, 12):
        while db.session.scalar(sa.select(sa.func.count(Service.id))) < size:
            org = make_org(OrgKind.PROVIDER)
            make_service(org)
            make_user(Role.PROVIDER, org)
        for path in paths:
            counts[path].append(_statements(client, path))
    assert all(a == b for a, b in counts.values()), counts
    assert "18 users." in text(client.get("/admin/users/"))  # the six of every role and twelve providers


def test_the_admin_forms_carry_their_token(csrf_on, client, auth, users):
    """With CSRF on, as in production: a post without the token changes nothing; the pages' own forms carry it."""
    caseworker = users["caseworker"]
    auth.login_with_csrf(users["admin"])
    assert client.post(f"/admin/users/{caseworker.id}/deactivate").status_code == 400
    page = text(client.get(f"/admin/users/{caseworker.id}"))
    forms = re.findall(r'<form method="post"[^>]*>(.*?)</form>', page, re.S)
    assert len(forms) == 4  # signing out, the role and organization, reset password, deactivate
    assert all('name="csrf_token"' in form for form in forms)
    response = client.post(f"/admin/users/{caseworker.id}/deactivate", data={"csrf_token": csrf_token_of(page)})
    assert response.status_code == 302
    db.session.refresh(caseworker)
    assert caseworker.active is False


def test_an_organization_named_in_case_records_keeps_its_kind(client, auth, users, make_participant):
    community = users["community"].organization
    make_participant(users["caseworker"], community_org_id=community.id)
    quiet = Organization(name="Faith Leaders for Peace", kind=OrgKind.COMMUNITY)
    db.session.add(quiet)
    db.session.commit()
    auth.login(users["admin"])
    # Its user is a community user: the user's role needs the kind first.
    response = client.post(f"/admin/organizations/{community.id}", data={"name": community.name, "kind": "provider"})
    assert (response.status_code, "change their roles first" in text(response)) == (422, True)
    users["community"].organization_id = None
    db.session.commit()
    response = client.post(f"/admin/organizations/{community.id}", data={"name": community.name, "kind": "provider"})
    assert (response.status_code, "Case records name it" in text(response)) == (422, True)
    assert client.post(f"/admin/organizations/{quiet.id}", data={"name": quiet.name, "kind": "provider"}).status_code \
        == 302
    db.session.refresh(community)
    db.session.refresh(quiet)
    assert (community.kind, quiet.kind) == (OrgKind.COMMUNITY, OrgKind.PROVIDER)

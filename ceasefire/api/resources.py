"""/forums, /referrals, /users, /organizations, /services, /groups."""

from __future__ import annotations

import sqlalchemy as sa
from flask import g

from ceasefire import limits, policy
from ceasefire.api import bp, done, page_of, serialize
from ceasefire.api.schema import F, json_body, name_f, query_arg, text_f, validate
from ceasefire.errors import NotFound, ValidationFailed
from ceasefire.extensions import db
from ceasefire.models import Forum, Group, Organization, Participant, Referral, Service
from ceasefire.models.enums import ForumStatus, OrgKind, ReferralStatus, Role, ServiceCategory
from ceasefire.services import accounts, catalog
from ceasefire.services import referrals as referral_service

# Forums


@bp.get("/forums")
def list_forums():
    policy.require(g.user, "forum.list")
    query = sa.select(Forum).order_by(Forum.scheduled_at.desc(), Forum.id.desc())
    return done(page_of(query, serialize.forum))


@bp.post("/forums")
def create_forum():
    user = g.user
    policy.require(user, "forum.create")
    spec = {
        "title": F("str", limits.TITLE), "scheduled_at": F("datetime"), "location": F("str", limits.TITLE),
        "speakers": text_f(), "notes": text_f(),
    }
    values = validate(json_body(), spec, required=("title", "scheduled_at"))
    forum = catalog.create_forum(user, **values)
    return done(serialize.forum_with_invitations(user, forum), 201)


@bp.get("/forums/<int:forum_id>")
def get_forum(forum_id: int):
    user = g.user
    forum = db.session.get(Forum, forum_id)
    if forum is None:
        raise NotFound("No such forum.")
    policy.require(user, "forum.list")
    return done(serialize.forum_with_invitations(user, forum))


FORUM_PATCH_SPEC = {
    "title": F("str", limits.TITLE), "scheduled_at": F("datetime"), "location": F("str", limits.TITLE),
    "speakers": text_f(), "notes": text_f(), "status": F("enum", enum=ForumStatus),
}


@bp.patch("/forums/<int:forum_id>")
def patch_forum(forum_id: int):
    user = g.user
    forum = db.session.get(Forum, forum_id)
    if forum is None:
        raise NotFound("No such forum.")
    policy.require(user, "forum.update")
    values = validate(json_body(), FORUM_PATCH_SPEC)
    catalog.update_forum(user, forum, values)
    return done(serialize.forum_with_invitations(user, forum))


# Referrals


@bp.get("/referrals")
def list_referrals():
    query = policy.referral_query(g.user).order_by(Referral.id.desc())
    return done(page_of(query, serialize.referral))


@bp.post("/referrals")
def create_referral():
    user = g.user
    policy.require(user, "referral.create")
    spec = {"participant_id": F("int"), "service_id": F("int"), "note": text_f()}
    values = validate(json_body(), spec, required=("participant_id", "service_id"))
    participant = db.session.scalar(
        policy.scope(user, sa.select(Participant).where(Participant.id == values["participant_id"]))
    )
    service = db.session.get(Service, values["service_id"])
    problems = {}
    if participant is None:
        problems["participant_id"] = "No such participant."
    if service is None:
        problems["service_id"] = "No such service."
    if problems:
        raise ValidationFailed("Some fields name no such record.", problems)
    referral = referral_service.send_referral(user, participant, service, values.get("note"))
    return done(serialize.referral(referral), 201)


@bp.post("/referrals/<int:referral_id>/status")
def referral_status(referral_id: int):
    user = g.user
    referral = policy.get_referral(user, referral_id)
    data = json_body()
    values = validate(
        data, {"status": F("enum", enum=ReferralStatus), "reason": text_f()}, required=("status",)
    )
    if values["status"] == ReferralStatus.SENT:
        raise ValidationFailed("A referral cannot be sent again.", {"status": "Choose the status it moves to."})
    referral_service.set_status(user, referral, values["status"], values.get("reason"))
    return done(serialize.referral(referral))


# Users, organizations, services, groups


@bp.post("/users")
def create_user():
    user = g.user
    policy.require(user, "user.create")
    spec = {
        "email": F("email", limits.EMAIL), "name": name_f(), "role": F("enum", enum=Role),
        "organization_id": F("int"), "password": F("str", limits.PASSWORD_MAX),
    }
    values = validate(json_body(), spec, required=("email", "name", "role", "password"))
    created = accounts.create_user(user, **values)
    return done(serialize.user(created), 201)


@bp.get("/organizations")
def list_organizations():
    policy.require(g.user, "organization.list")
    return done(page_of(sa.select(Organization).order_by(Organization.name, Organization.id), serialize.organization))


@bp.post("/organizations")
def create_organization():
    user = g.user
    policy.require(user, "organization.create")
    spec = {
        "name": name_f(), "kind": F("enum", enum=OrgKind), "description": text_f(),
        "email": F("email", limits.EMAIL), "phone": F("str", limits.PHONE), "url": F("str", limits.URL),
    }
    values = validate(json_body(), spec, required=("name", "kind"))
    return done(serialize.organization(catalog.create_organization(user, values)), 201)


@bp.get("/services")
def list_services():
    policy.require(g.user, "service.list")
    category = query_arg("category", F("enum", enum=ServiceCategory))
    query = sa.select(Service).order_by(Service.name, Service.id)
    if category:
        query = query.where(Service.category == category)
    return done(page_of(query, serialize.service))


@bp.post("/services")
def create_service():
    user = g.user
    policy.require(user, "service.create")
    spec = {
        "organization_id": F("int"), "name": name_f(), "category": F("enum", enum=ServiceCategory),
        "description": text_f(), "eligibility": text_f(), "capacity": F("int"), "active": F("bool", nullable=False),
    }
    values = validate(json_body(), spec, required=("organization_id", "name", "category"))
    return done(serialize.service(catalog.create_service(user, values)), 201)


@bp.get("/groups")
def list_groups():
    user = g.user
    policy.require(user, "group.list")
    return done(page_of(sa.select(Group).order_by(Group.name, Group.id), lambda grp: serialize.group(user, grp)))


@bp.post("/groups")
def create_group():
    user = g.user
    policy.require(user, "group.create")
    spec = {"name": name_f(), "aliases": F("str", limits.ALIASES), "area": F("str", limits.TITLE)}
    values = validate(json_body(), spec, required=("name",))
    return done(serialize.group(user, catalog.create_group(user, values)), 201)

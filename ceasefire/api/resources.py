"""/forums, /referrals, /users, /organizations, /services, /groups."""

from __future__ import annotations

import sqlalchemy as sa
from flask import g

from ceasefire import policy
from ceasefire.api import bp, done, page_of, paging, report_shapes, serialize, shapes
from ceasefire.api.schema import body, query
from ceasefire.errors import ValidationFailed
from ceasefire.extensions import db
from ceasefire.models import Group, Organization, Participant, Service
from ceasefire.models.enums import ReferralStatus
from ceasefire.services import accounts, catalog, read
from ceasefire.services import referrals as referral_service

# Forums


@bp.get("/forums")
def list_forums():
    return done(serialize.page(read.forum_page(g.user, *paging())))


@bp.post("/forums")
def create_forum():
    user = g.user
    policy.require(user, "forum.create")
    values = body(shapes.ForumCreate)
    forum = catalog.create_forum(user, **values)
    return done(serialize.encode(read.forum_record(user, forum)), 201)


@bp.get("/forums/<int:forum_id>")
def get_forum(forum_id: int):
    user = g.user
    forum = policy.get_forum(user, forum_id)
    return done(serialize.encode(read.forum_record(user, forum)))


@bp.patch("/forums/<int:forum_id>")
def patch_forum(forum_id: int):
    user = g.user
    forum = policy.get_forum(user, forum_id, "forum.update")
    values = body(report_shapes.ForumPatch)
    catalog.update_forum(user, forum, values)
    return done(serialize.encode(read.forum_record(user, forum)))


# Referrals


@bp.get("/referrals")
def list_referrals():
    return done(serialize.page(read.referral_page(g.user, *paging())))


@bp.post("/referrals")
def create_referral():
    user = g.user
    policy.require(user, "referral.create")
    values = body(shapes.ReferralCreate)
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
    return done(serialize.encode(read.referral_record(user, referral)), 201)


@bp.post("/referrals/<int:referral_id>/status")
def referral_status(referral_id: int):
    user = g.user
    referral = policy.get_referral(user, referral_id)
    values = body(shapes.ReferralStatusChange)
    if values["status"] == ReferralStatus.SENT:
        raise ValidationFailed("A referral cannot be sent again.", {"status": "Choose the status it moves to."})
    referral_service.set_status(user, referral, values["status"], values.get("reason"))
    return done(serialize.encode(read.referral_record(user, referral)))


# Users, organizations, services, groups


@bp.post("/users")
def create_user():
    user = g.user
    policy.require(user, "user.create")
    values = body(shapes.UserCreate)
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
    values = body(shapes.OrganizationCreate)
    return done(serialize.organization(catalog.create_organization(user, values)), 201)


@bp.get("/services")
def list_services():
    policy.require(g.user, "service.list")
    category = query(shapes.ServiceQuery)["category"]
    services = sa.select(Service).order_by(Service.name, Service.id)
    if category:
        services = services.where(Service.category == category)
    return done(page_of(services, serialize.service))


@bp.post("/services")
def create_service():
    user = g.user
    policy.require(user, "service.create")
    values = body(shapes.ServiceCreate)
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
    values = body(shapes.GroupCreate)
    return done(serialize.group(user, catalog.create_group(user, values)), 201)

"""What just happened, in the words a caseworker would use: the message a page shows after an action ("Marcus Reed
checked in", "Referral to Hope Jobs accepted"), never the state machine's codes."""

from __future__ import annotations

from ceasefire.models.enums import ReferralStatus

# After each pipeline event, with {name} the participant's name and {forum} the forum's title where there is one.
EVENT_DONE: dict[str, str] = {
    "invite": "{name} invited to {forum}",
    "no_show": "{name} marked as not attending {forum}",
    "attend": "{name} checked in",
    "offer_services": "Services offered to {name}",
    "enforce": "Enforcement recorded for {name}",
    "close": "{name}'s case closed",
    "reopen": "{name}'s case reopened",
}

# After a referral's status changes, with {name} the participant and {service} the service.
REFERRAL_DONE: dict[ReferralStatus, str] = {
    ReferralStatus.SENT: "Referral to {service} sent",
    ReferralStatus.ACCEPTED: "Referral to {service} accepted",
    ReferralStatus.DECLINED: "Referral to {service} declined",
    ReferralStatus.ENROLLED: "{name} enrolled in {service}",
    ReferralStatus.COMPLETED: "{name} completed {service}",
    ReferralStatus.DROPPED: "{name} dropped out of {service}",
    ReferralStatus.WITHDRAWN: "Referral to {service} withdrawn",
}


def event_done(event: str, name: str, forum: str | None = None) -> str:
    template = EVENT_DONE.get(event, "{name}: " + event.replace("_", " "))
    return template.format(name=name, forum=f"“{forum}”" if forum else "the forum") + "."


def referral_done(status: ReferralStatus, service: str, name: str | None = None) -> str:
    template = REFERRAL_DONE[status]
    if name is None and "{name}" in template:
        template = "Referral to {service} " + status.value
    return template.format(service=service, name=name) + "."

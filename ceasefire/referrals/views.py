"""Referral pages: the referrals a user may work (a provider's own organization's, everyone's for caseworkers
and supervisors), one referral with its history, and the status buttons.

Each view loads (404), checks the policy (403), calls one service, commits once, then redirects or renders.
Which referrals a user sees is ceasefire.policy's to say; which statuses they may set now is
ceasefire.services.referrals.allowed_statuses'; no rule is written here.
"""

from __future__ import annotations

from typing import cast

from flask import flash, redirect, render_template, request, url_for

from ceasefire import policy
from ceasefire.errors import ServiceError, ValidationFailed
from ceasefire.models import Referral, User
from ceasefire.models.enums import ReferralStatus
from ceasefire.pages import actor, attempt, keep, page_number, signed_in_blueprint
from ceasefire.referrals.forms import InboxForm, ReferralFilterForm, StatusForm
from ceasefire.services import audit, read, workspaces
from ceasefire.services import referrals as referral_service
from ceasefire.web import safe_next

bp = signed_in_blueprint("referrals", __name__, "/referrals")

PER_PAGE = 50
S = ReferralStatus

# How each status reads as a button and how loud it is; which buttons a page shows is allowed_statuses'.
BUTTONS: dict[ReferralStatus, tuple[str, str]] = {
    S.ACCEPTED: ("Accept", "primary"),
    S.DECLINED: ("Decline", "danger"),
    S.ENROLLED: ("Mark enrolled", "primary"),
    S.COMPLETED: ("Mark completed", "primary"),
    S.DROPPED: ("Mark dropped", "secondary"),
    S.WITHDRAWN: ("Withdraw referral", "danger"),
}
# The statuses whose button comes with a reason to type (the service refuses "declined" without one).
WITH_REASON = frozenset({S.DECLINED})


def _page(user: User, referral: Referral, status: int = 200, error: ServiceError | None = None,
          posted: StatusForm | None = None):
    """One referral: its record as the role may see it, its history, and the statuses the user may set now."""
    actions, reason_forms = [], []
    for new in referral_service.allowed_statuses(user, referral):
        label, kind = BUTTONS[new]
        if new in WITH_REASON:
            form = posted if posted is not None and posted.status.data == new.value else None
            reason_forms.append((new, label, kind, form or StatusForm(formdata=None, status=new.value)))
        else:
            actions.append((new, label, kind, StatusForm(formdata=None, status=new.value)))
    return render_template(
        "referrals/show.html",
        r=read.referral_record(user, referral, detail=True),
        actions=actions,
        reason_forms=reason_forms,
        error=error,
        posted=posted,
    ), status


@bp.get("/")
def index():
    user = actor()
    form = ReferralFilterForm(formdata=request.args)
    valid = form.validate()
    status = ReferralStatus(form.status.data) if valid and form.status.data else None
    listing = read.referral_page(user, page_number(), PER_PAGE, clamp=True, status=status)  # 403 for other roles
    args = {k: v for k, v in request.args.items() if k != "page" and v}
    return render_template("referrals/index.html", form=form, listing=listing, args=args), 200 if valid else 422


@bp.get("/inbox")
def inbox():
    """The provider inbox: a tab per stage, each row with the buttons of its next steps, in their order."""
    user = actor()
    box = workspaces.inbox(user, request.args.get("tab", "new"), page_number(), PER_PAGE)  # 403 for other roles
    rows = [
        (w, [(s, *BUTTONS[s]) for s in referral_service.next_steps(user, w.referral.status)], InboxForm(formdata=None))
        for w in box.page.items
    ]
    return render_template("referrals/inbox.html", box=box, rows=rows, tabs=list(workspaces.INBOX_TABS))


@bp.get("/<int:referral_id>")
def show(referral_id: int):
    user = actor()
    referral = policy.get_referral(user, referral_id)
    audit.record(user, "view", "referral", referral.id, participant_id=referral.participant_id)
    keep()
    return _page(user, referral)


@bp.post("/<int:referral_id>/status")
def status(referral_id: int):
    user = actor()
    referral = policy.get_referral(user, referral_id)
    form = StatusForm()
    if not form.validate_on_submit():
        messages = [message for errors in form.errors.values() for message in errors]
        return _page(user, referral, 422, ValidationFailed(" ".join(messages)), form)
    new = ReferralStatus(cast(str, form.status.data))  # the form's AnyOf has refused anything else
    _, error = attempt(
        lambda: referral_service.set_status(user, referral, new, form.reason.data, form.note.data), form
    )
    if error is None:
        flash(f"Referral of {referral.participant.full_name} to {referral.service.name} {new.value}.", "success")
        return redirect(safe_next(request.form.get("next")) or url_for(".show", referral_id=referral.id))
    return _page(user, referral, error.status, error, form)

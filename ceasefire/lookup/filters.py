"""A list's filter on a row of a table that grows with the program (the participant list's group, caseworker and
forum, the audit trail's user), in a GET query that stays bookmarkable: a select while the table holds at most
ceasefire.services.lookup.THRESHOLD rows, beyond that a text box whose typed name the server resolves, as the forms'
look-ups do (ceasefire.lookup.fields). The row's id keeps its own key in the URL (`group_id=`), so a link from another
page filters by it and the box shows the row's name; the box has a key of its own (`group=`), which decides whenever
it was sent, the id then only telling apart rows the typed name shares. A name no row has, or several share, is a
message on the list page with the rows it may mean as links, and no filter is applied (the page answers 422)."""

from __future__ import annotations

from contextlib import suppress
from typing import Any

from flask import request, url_for
from flask_wtf import FlaskForm
from markupsafe import Markup
from wtforms import Field
from wtforms.validators import ValidationError

from ceasefire import limits
from ceasefire.lookup.fields import LookupField, _attrs, _whole
from ceasefire.models import User
from ceasefire.services import lookup
from ceasefire.services.lookup import Choice

NO_SUCH_ID = f"There is no such id: ids run from 1 to {limits.ID_MAX}."


class LookupFilter(LookupField):
    def __init__(self, label: str | None = None, validators: Any = None, *, kind: str, typed_name: str,
                 blank: str, **kwargs: Any) -> None:
        super().__init__(label, validators, kind=kind, blank=blank, **kwargs)
        self.typed_name = typed_name  # the text box's key in the URL; the field's own name carries the id
        self.typed_text: str | None = None  # what the box sent; None when it was not sent (a link, a select)
        self.chosen: Choice | None = None  # the row filtered by, once resolved (a typed list shows its name)
        self.named: list[Choice] | None = None  # the rows named as typed, read with the choices (prepare)

    def url_keys(self) -> tuple[str, ...]:
        """The field's keys in the URL: the id, the box, and the suggestion the script picked."""
        return self.name, self.typed_name, f"{self.typed_name}-pick"

    def process(self, formdata: Any, data: Any = None, extra_filters: Any = None) -> None:
        Field.process(self, formdata, data, extra_filters)
        if formdata is not None:
            if self.typed_name in formdata:
                self.typed_text = " ".join((formdata.get(self.typed_name) or "").split())[: limits.NAME]
            picks = [v for v in map(_whole, formdata.getlist(f"{self.typed_name}-pick")) if v is not None]
            if picks:
                self.picks[0] = picks[-1]

    def _id(self) -> int | None:
        """The id in the URL, or None for none; a value that is no id is refused."""
        sent = [v for v in self.raw_data or () if v != ""]
        if not sent:
            return None
        wanted = _whole(sent[-1])
        if wanted is None or wanted > limits.ID_MAX:
            raise ValidationError(NO_SUCH_ID)
        return wanted

    def prepare(self) -> None:
        """A select or a box, and the row the URL names by id (the script's pick, else the id), in one statement."""
        wanted = self.picks.get(0)
        if wanted is None:
            with suppress(ValidationError):  # said when validated
                wanted = self._id()
        self.offered, self.chosen, self.named = lookup.offer(self.kind, wanted, self.typed_text or None)
        self.prepared = True

    def pre_validate(self, form: FlaskForm) -> None:
        if self.typed and self.typed_text is not None:  # the box was sent: its text decides
            if not self.typed_text:  # sent empty: no filter, whatever id came with it
                self.chosen = None
                return
            found = lookup.resolve(self.kind, self.typed_text, picked=self.chosen, exact=self.named)
            self.chosen = found.choice
            if found.id is None:
                self.candidates.append((0, self.typed_text, list(found.candidates)))
                raise ValidationError(found.message or "")
            self.data = found.id
            return
        wanted = self._id()
        if wanted is None:
            return
        known = self.chosen if self.typed else next((c for c in self.offered or () if c.id == wanted), None)
        if known is None or known.id != wanted:
            raise ValidationError(f"There is no such {lookup.KINDS[self.kind].noun}"
                                  + (": type a name to choose one." if self.typed else "."))
        self.chosen, self.data = known, wanted

    def text(self) -> str:
        if self.typed_text is not None and self.errors:
            return self.typed_text
        return self.chosen.text if self.chosen else ""

    def _typed(self, **kwargs: Any) -> Markup:
        box = Markup('<input type="text" {} name="{}" value="{}" autocomplete="off" data-lookup="{}">').format(
            _attrs(**kwargs), self.typed_name, self.text(), url_for("lookup.names", kind=self.kind))
        if self.data and not self.errors:  # the row shown, to tell it apart from others of its name when sent again
            box += Markup('<input type="hidden" name="{}" value="{}">').format(self.name, self.data)
        return box

    def choose(self) -> Markup:
        """The rows the typed name may mean, each a link to the list filtered by it (the other filters kept)."""
        if not self.candidates or not self.candidates[0][2]:
            return Markup("")
        _, typed, rows = self.candidates[0]
        kept: dict[str, Any] = {k: v for k, v in request.args.items()
                                if k not in self.url_keys() and k != "page" and v}
        links = Markup("").join(
            Markup('<li><a href="{}">{}</a></li>').format(
                url_for(request.endpoint or "", **(kept | {self.name: c.id})), c.text)
            for c in rows
        )
        return Markup('<div class="lookup-choices"><p id="{0}-which">Which one is “{1}”?</p>'
                      '<ul aria-labelledby="{0}-which">{2}</ul></div>').format(self.id, typed, links)


def prepare(form: FlaskForm, user: User) -> None:
    """Each look-up filter of the form: a select of a small table's rows, or a typed name; one the user's role may
    not use is no field of the form (its keys in the URL are ignored)."""
    for name, field in list(form._fields.items()):
        if isinstance(field, LookupFilter):
            if lookup.may_look_up(user, field.kind):
                field.prepare()
            else:
                del form[name]


def filter_args(form: FlaskForm, place: tuple[str, ...] = ("page",)) -> dict[str, str]:
    """The list's query for its own links (pager, tabs, candidates), in the order the URL gave it, less where a page
    starts (`place`): a look-up filter as the id it resolved to (none when it did not), its box and pick dropped;
    the other fields as sent."""
    owner = {key: field for field in form if isinstance(field, LookupFilter) for key in field.url_keys()}
    args: dict[str, str] = {}
    for key, value in request.args.items():
        field = owner.get(key)
        if field is not None:
            if field.data and not field.errors and field.name not in args:
                args[field.name] = str(field.data)
        elif key not in place and value and key in form:
            args[key] = value
    return args

"""One form field for choosing a row of a table that grows with the program (a group, a caseworker, an organization,
a service): a select while the table is small, a typed name beyond ceasefire.services.lookup.THRESHOLD rows. The
typed name is resolved on the server, so the page works without JavaScript: a name that fits no row, or several,
re-renders the form with a message and the rows it may mean as radio buttons, and nothing is saved. static/js/
lookup.js only suggests names as the user types (from lookup.views). `multiple` chooses several (one name a line)."""

from __future__ import annotations

from typing import Any

from flask import url_for
from flask_wtf import FlaskForm
from markupsafe import Markup
from wtforms import Field
from wtforms.validators import ValidationError

from ceasefire.models import User
from ceasefire.services import lookup
from ceasefire.services.lookup import Choice


def _attrs(**kwargs: Any) -> Markup:
    return Markup(" ").join(
        Markup('{}="{}"').format(k.rstrip("_").replace("_", "-"), v) for k, v in kwargs.items()
        if v is not None and v is not False
    )


def _whole(value: Any) -> int | None:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if 0 < number < 2**63 else None


class LookupField(Field):
    def __init__(self, label: str | None = None, validators: Any = None, *, kind: str, multiple: bool = False,
                 blank: str = "Not assigned", **kwargs: Any) -> None:
        super().__init__(label, validators, **kwargs)
        self.kind, self.multiple, self.blank = kind, multiple, blank
        self.offered: list[Choice] | None = None  # prepare(): the rows of a small table; None means typed
        self.prepared = False
        self.picks: dict[int, int] = {}
        self.candidates: list[tuple[int, str, list[Choice]]] = []  # per name not resolved: its line, name, rows

    # Reading the request.

    def process(self, formdata: Any, data: Any = None, extra_filters: Any = None) -> None:
        super().process(formdata, data, extra_filters)
        if formdata is not None:
            for key in formdata:
                if key == f"{self.name}-pick" or key.startswith(f"{self.name}-pick-"):
                    index = _whole(key.rpartition("-")[2]) if key != f"{self.name}-pick" else 0
                    values = [v for v in map(_whole, formdata.getlist(key)) if v is not None]
                    picked = values[-1] if values else None  # a radio picked, else the script's suggestion
                    if index is not None and picked is not None:
                        self.picks[index] = picked

    def process_data(self, value: Any) -> None:
        if self.multiple:
            self.data = list(value or ())
        else:
            self.data = value

    def process_formdata(self, valuelist: list[str]) -> None:
        self.data = [] if self.multiple else None  # decided in pre_validate, once prepare() said select or typed

    @property
    def typed(self) -> bool:
        return self.prepared and self.offered is None

    def prepare(self) -> None:
        self.offered = lookup.options(self.kind)
        self.prepared = True

    def _names(self) -> list[str]:
        raw = " ".join(self.raw_data or ()) if not self.multiple else "\n".join(self.raw_data or ())
        if not self.multiple:
            return [raw.strip()] if raw.strip() else []
        return [n.strip() for n in raw.replace(";", "\n").splitlines() if n.strip()]

    def pre_validate(self, form: FlaskForm) -> None:
        if self.raw_data is None:
            return
        if not self.typed:
            wanted = [_whole(v) for v in self.raw_data if v != ""]
            known = {c.id for c in self.offered or ()}
            if any(w is None or w not in known for w in wanted):
                raise ValidationError("Not a valid choice.")
            self.data = wanted if self.multiple else (wanted[0] if wanted else None)
            return
        ids: list[int] = []
        problems: list[str] = []
        for index, name in enumerate(self._names()):
            found = lookup.resolve(self.kind, name, self.picks.get(index))
            if found.id is not None:
                ids.append(found.id)
            else:
                self.candidates.append((index, name, list(found.candidates)))
                problems.append(found.message or "")
        if problems:
            raise ValidationError(" ".join(problems))
        self.data = ids if self.multiple else (ids[0] if ids else None)

    # Showing it.

    def text(self) -> str:
        """What the typed input holds: the names as typed, or the current value's names."""
        if self.raw_data is not None and self.raw_data:
            return "\n".join(self._names())
        ids = self.data if self.multiple else ([self.data] if self.data else [])
        return "\n".join(c.text for c in lookup.choices(self.kind, list(ids or ())))

    def shown(self, value: str) -> str:
        """A value (an id, as the conflict table has it) as a person reads it."""
        found = lookup.choices(self.kind, [v]) if (v := _whole(value)) else []
        return found[0].label if found else (value or "—")

    def __call__(self, **kwargs: Any) -> Markup:
        kwargs.setdefault("id", self.id)
        if self.typed:
            return self._typed(**kwargs)
        return self._checks(**kwargs) if self.multiple else self._select(**kwargs)

    def _select(self, **kwargs: Any) -> Markup:
        options = [Markup('<option value="">{}</option>').format(self.blank)]
        chosen = self.raw_data[0] if self.raw_data else str(self.data or "")
        options += [
            Markup('<option value="{}"{}>{}</option>').format(c.id, Markup(" selected") if str(c.id) == chosen else "",
                                                             c.label)
            for c in self.offered or ()
        ]
        return Markup('<select {} name="{}">{}</select>').format(_attrs(**kwargs), self.name, Markup("").join(options))

    def _checks(self, **kwargs: Any) -> Markup:
        chosen = set(self.raw_data) if self.raw_data is not None else {str(i) for i in self.data or ()}
        items = [
            Markup('<div class="field check"><input type="checkbox" id="{0}-{1}" name="{2}" value="{3}"{4}> '
                   '<label for="{0}-{1}">{5}</label></div>').format(
                kwargs["id"], n, self.name, c.id, Markup(" checked") if str(c.id) in chosen else "", c.label)
            for n, c in enumerate(self.offered or ())
        ]
        return Markup("").join(items) or Markup('<p class="empty">None to choose.</p>')

    def _typed(self, **kwargs: Any) -> Markup:
        source = url_for("lookup.names", kind=self.kind)
        if self.multiple:
            return Markup('<textarea {} name="{}" rows="3" autocomplete="off" data-lookup="{}">{}</textarea>').format(
                _attrs(**kwargs), self.name, source, self.text())
        return Markup('<input type="text" {} name="{}" value="{}" autocomplete="off" data-lookup="{}">').format(
            _attrs(**kwargs), self.name, self.text(), source)

    def choose(self) -> Markup:
        """The rows each name not resolved may mean, as radio buttons to pick one (after the field's message)."""
        parts = []
        for index, typed, rows in self.candidates:
            if not rows:
                continue
            name = f"{self.name}-pick" if not self.multiple else f"{self.name}-pick-{index}"
            radios = Markup("").join(
                Markup('<div class="field check"><input type="radio" id="{0}-{1}" name="{0}" value="{2}"> '
                       '<label for="{0}-{1}">{3}</label></div>').format(name, n, c.id, c.text)
                for n, c in enumerate(rows)
            )
            parts.append(Markup('<fieldset class="lookup-choices"><legend>Which one is “{}”?</legend>{}</fieldset>')
                         .format(typed, radios))
        return Markup("").join(parts)


def prepare(form: FlaskForm, user: User) -> None:
    """Every look-up of the form: a select of a small table's rows, or a typed name; a look-up the user's role may not
    use is no field of the form."""
    for name, field in list(form._fields.items()):
        if isinstance(field, LookupField):
            if lookup.may_look_up(user, field.kind):
                field.prepare()
            else:
                del form[name]


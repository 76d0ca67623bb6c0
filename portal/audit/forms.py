"""The audit page's filters: read from the query string; a value that does not parse is dropped."""
from __future__ import annotations

from wtforms import DateField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, Optional

from portal.audit.services import ACTION_KINDS, EventFilters
from portal.core.forms import Form

NO_ACTOR = "none"


class AuditFilterForm(Form):
    class Meta:
        csrf = False  # a GET form: filters change nothing

    kind = SelectField("类别", choices=[SelectChoice("", "全部")] + [SelectChoice(k, v) for k, v in ACTION_KINDS.items()], default="", validators=[Optional()])
    actor = SelectField("操作人", default="", validators=[Optional()])
    street_id = SelectField("街道", default="", validators=[Optional()])
    object_type = SelectField("对象类型", default="", validators=[Optional()])
    date_from = DateField("从", validators=[Optional()])
    date_to = DateField("到", validators=[Optional()])
    q = StringField("说明包含", validators=[Optional(), Length(max=100)],
                    filters=[lambda v: v.replace("\x00", "").strip() if isinstance(v, str) else v])

    def set_choices(self, users, streets, object_types: list[str], object_label) -> None:
        everything = SelectChoice("", "全部")
        self.actor.choices = [everything, SelectChoice(NO_ACTOR, "系统 / 未登录")] + [
            SelectChoice(str(u.id), f"{u.display_name}（{u.username}）") for u in users]
        self.street_id.choices = [everything] + [SelectChoice(str(s.id), s.name) for s in streets]
        self.object_type.choices = [everything] + [SelectChoice(t, object_label(t)) for t in object_types]

    def drop_invalid(self) -> list[str]:
        """Validate; every field with an error is cleared. Returns the labels of the dropped fields."""
        self.validate()
        dropped = []
        for name, errors in self.errors.items():
            if errors:
                field = getattr(self, name)
                dropped.append(field.label.text)
                field.data = None
                field.raw_data = []
        if self.date_from.data and self.date_to.data and self.date_from.data > self.date_to.data:
            self.date_from.data, self.date_to.data = self.date_to.data, self.date_from.data
        return dropped

    def filters(self) -> EventFilters:
        actor = self.actor.data or ""
        return EventFilters(
            kind=self.kind.data or None,
            actor_id=int(actor) if actor.isdigit() else None, no_actor=actor == NO_ACTOR,
            street_id=int(self.street_id.data) if (self.street_id.data or "").isdigit() else None,
            object_type=self.object_type.data or None,
            date_from=self.date_from.data, date_to=self.date_to.data, q=self.q.data or "")

    def args(self) -> dict[str, str]:
        """The filters that were kept, for the pager and the export link."""
        out = {}
        for name in ("kind", "actor", "street_id", "object_type", "q"):
            value = getattr(self, name).data
            if value:
                out[name] = value
        for name in ("date_from", "date_to"):
            value = getattr(self, name).data
            if value:
                out[name] = value.isoformat()
        return out

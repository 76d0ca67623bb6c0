import re

from flask_wtf import FlaskForm
from wtforms import FieldList, FormField

CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def drop_control_characters(value):
    """Typed text never holds these; PostgreSQL refuses NUL in text, so one would be a 500."""
    return CONTROL_CHARACTERS.sub("", value) if isinstance(value, str) else value


class DropControlCharacters:
    """Form Meta mixin: every field of the form filters its data through drop_control_characters."""

    def bind_field(self, form, unbound_field, options):
        if issubclass(unbound_field.field_class, (FieldList, FormField)):  # they take no filters; their fields do
            return super().bind_field(form, unbound_field, options)
        filters = [drop_control_characters, *unbound_field.kwargs.get("filters", ())]
        return super().bind_field(form, unbound_field, {**options, "filters": filters})


class Form(FlaskForm):
    """Base form: WTForms' own messages ("不是有效的选择。") in Chinese, without Flask-Babel."""

    class Meta(DropControlCharacters):
        locales = ["zh"]

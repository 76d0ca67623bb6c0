from wtforms import BooleanField, HiddenField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from portal.core.forms import Form


def theme_choices():
    from nlp.themes import THEMES

    return [(t.code, t.name) for t in THEMES]


class CorrectionForm(Form):
    themes = SelectMultipleField("主题（1–3 个，最重要的在前）", choices=[])
    urgent = BooleanField("紧急（危及生命财产安全）")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.themes.choices = theme_choices()


class BulkForm(CorrectionForm):
    """The queue's checkboxes arrive as request.form.getlist("ids")."""


class FlagForm(Form):
    source = HiddenField(validators=[DataRequired()])
    record_id = HiddenField(validators=[DataRequired()])
    reason = StringField("需要复核的原因", validators=[DataRequired("请写明为什么需要复核。"), Length(max=500)])


class DecisionForm(Form):
    note = TextAreaField("说明（可不填）", validators=[Optional(), Length(max=1000)])

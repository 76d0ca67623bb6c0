"""Forms of the project library. They check what a form can (present, length); the rules of a project
(one street, valid themes, cost and households) are the service's, shown under the field they concern."""
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import DateField, HiddenField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, ValidationError

from portal.core.forms import Form
from portal.minutes.forms import CheckboxesField
from portal.projects.models import ProjectCategory, ProjectStatus


class ChoicesField(CheckboxesField):
    """Checkboxes whose refusal of a value not offered is in Chinese (WTForms' own message is not)."""

    def __init__(self, *args, invalid_message: str = "所选的项不在可选范围内。", **kwargs):
        super().__init__(*args, **kwargs)
        self.invalid_message = invalid_message

    def pre_validate(self, form):
        offered = {choice[0] for choice in self.choices or []}
        if any(value not in offered for value in self.data or []):
            raise ValidationError(self.invalid_message)


class ProjectForm(Form):
    name = StringField("项目名称", validators=[DataRequired("请填写项目名称。"), Length(max=128, message="项目名称最多 128 个字。")],
                       render_kw={"placeholder": "如：桂花苑排水防涝改造"})
    estate_ids = ChoicesField("涉及小区（可多选，须属于同一街道）", coerce=int, choices=[],
                              invalid_message="所选小区不存在或不在您的管辖范围内。")
    themes = ChoicesField("解决的居民诉求主题（至少一个）", choices=[], invalid_message="所选主题不存在。")
    category = SelectField("项目类别", choices=[("", "（请选择）")] + [(c.value, c.label) for c in ProjectCategory])
    cost_wan = StringField("投资估算（万元）", validators=[DataRequired("请填写投资估算（万元）。"), Length(max=20)],
                           render_kw={"inputmode": "decimal", "placeholder": "如：120.5"})
    households_covered = IntegerField("覆盖户数", validators=[
        InputRequired("请填写覆盖户数（可以为 0）。"),
        NumberRange(min=0, max=100000, message="覆盖户数应在 0–100000 之间。")],
        render_kw={"inputmode": "numeric"})
    consent_survey_id = SelectField("关联的表决调查（可选）", coerce=int, choices=[(0, "（不关联）")])
    description = TextAreaField("项目说明（可选）", validators=[Optional(), Length(max=5000, message="项目说明最多 5000 个字。")])
    revision = HiddenField()

    def validate_estate_ids(self, field):
        # Not DataRequired: that would mark every checkbox "required" in the page.
        if not field.data:
            raise ValidationError("请至少选择一个小区。")

    def validate_themes(self, field):
        if not field.data:
            raise ValidationError("请至少选择一个主题。")

    def validate_category(self, field):
        if not field.data:
            raise ValidationError("请选择项目类别。")


class StatusForm(Form):
    status = SelectField("改为", choices=[(s.value, s.label) for s in ProjectStatus])
    on_date = DateField("日期（开工或完成日，不填为今天）", validators=[Optional()], render_kw={"type": "date"})


class ImportForm(Form):
    file = FileField("项目清单（.xlsx 或 .csv）", validators=[
        FileRequired("请选择文件。"), FileAllowed(["xlsx", "csv"], "只支持 .xlsx 或 .csv 文件。")])

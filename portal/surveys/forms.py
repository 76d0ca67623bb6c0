from wtforms import (
    BooleanField, DateField, IntegerField, SelectField, SelectMultipleField, StringField, TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from portal.core.forms import Form
from portal.surveys.models import KIND_LABELS, MATTER_LABELS, TallyScope


class SurveyForm(Form):
    title = StringField("调查名称", validators=[DataRequired("请填写调查名称。"), Length(max=128)])
    intro = TextAreaField("给居民的说明（可选）", validators=[Optional(), Length(max=5000)])
    estate_ids = SelectMultipleField("覆盖的小区（可多选，按住 Ctrl 多选）", coerce=int, choices=[],
                                     validators=[DataRequired("请至少选择一个小区。")])
    matter_type = SelectField("表决事项类型", choices=[(m.value, label) for m, label in MATTER_LABELS.items()])
    tally_scope = SelectField("法定表决范围", choices=[(s.value, s.label) for s in TallyScope])
    scope_targets = TextAreaField(
        "只调查部分楼栋或单元（可选，每行一个，如“3”或“3-2”；按楼栋/单元表决且只选一个小区时可用）",
        validators=[Optional(), Length(max=2000)])
    opens_on = DateField("开始日期", validators=[InputRequired("请填写开始日期。")],
                         render_kw={"type": "date"})
    closes_on = DateField("截止日期（当天 24 点截止）", validators=[InputRequired("请填写截止日期。")],
                          render_kw={"type": "date"})


class QuestionForm(Form):
    kind = SelectField("题型", choices=[(k.value, label) for k, label in KIND_LABELS.items()])
    text = TextAreaField("题目", validators=[DataRequired("请填写题目。"), Length(max=500)])
    required = BooleanField("必答")
    options = TextAreaField(
        "选项（单选、多选题用；每行一个。可写成“选项｜主题”或“类别｜选项｜主题”，如“完善类｜加装电梯｜电梯”）",
        validators=[Optional(), Length(max=8000)])
    max_choices = IntegerField("最多选几项（多选题，可留空）",
                               validators=[Optional(), NumberRange(min=1, max=40, message="应在 1–40 之间。")])
    scale_low = StringField("1 分表示（打分题，可留空：很不满意）", validators=[Optional(), Length(max=20)])
    scale_high = StringField("5 分表示（打分题，可留空：很满意）", validators=[Optional(), Length(max=20)])


class CodesForm(Form):
    estate_id = SelectField("小区", coerce=int, choices=[])
    building = StringField("楼栋（留空为全部楼栋）", validators=[Optional(), Length(max=32)])
    only_missing = BooleanField("只为还没有入户码的住户生成（已有入户码的保持不变）")
    confirm = BooleanField("我知道重新生成后，这些住户以前的入户码立即作废",
                           validators=[DataRequired("请勾选确认：重新生成会让旧入户码作废。")])


class HouseholdCodeForm(Form):
    estate_id = SelectField("小区", coerce=int, choices=[])
    building = StringField("楼栋", validators=[DataRequired("请填写楼栋。"), Length(max=32)])
    unit = StringField("单元（没有可不填）", validators=[Optional(), Length(max=32)])
    room = StringField("房号", validators=[DataRequired("请填写房号。"), Length(max=32)])


class IdentifyForm(Form):
    """The resident's door: building, unit and room plus the household's access code."""
    estate_id = SelectField("您住的小区", coerce=int, choices=[])
    building = StringField("楼栋（几号楼）", validators=[DataRequired("请填写楼栋号。"), Length(max=32)],
                           render_kw={"inputmode": "numeric", "autocomplete": "off"})
    unit = StringField("单元（没有可不填）", validators=[Optional(), Length(max=32)],
                       render_kw={"inputmode": "numeric", "autocomplete": "off"})
    room = StringField("房号（如 301）", validators=[DataRequired("请填写房号。"), Length(max=32)],
                       render_kw={"inputmode": "numeric", "autocomplete": "off"})
    code = StringField("入户码（通知单上的 6 位数字）", validators=[DataRequired("请填写入户码。"), Length(max=32)],
                       render_kw={"inputmode": "numeric", "autocomplete": "one-time-code"})

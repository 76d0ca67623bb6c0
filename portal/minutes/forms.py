from flask_wtf.file import FileAllowed, FileField
from wtforms import BooleanField, DateField, FieldList, FormField, HiddenField, IntegerField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms import Form as PlainForm
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from portal.core.forms import Form, Meta as PlainMeta
from portal.minutes.models import KIND_LABELS
from portal.minutes.parsing import MAX_POINTS, MAX_TEXT_CHARS


class CheckboxesField(SelectMultipleField):
    """Estates as a list of checkboxes: easier than a multi-select on any screen."""
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class MeetingForm(Form):
    kind = SelectField("会议类型", choices=[(k.value, label) for k, label in KIND_LABELS.items()])
    title = StringField("会议名称", validators=[DataRequired("请填写会议名称。"), Length(max=128, message="会议名称最多 128 字。")])
    held_on = DateField("会议日期", validators=[DataRequired("请填写会议日期（年-月-日）。")])
    estate_ids = CheckboxesField("涉及小区（可多选，须属于同一街道）", coerce=int, choices=[])
    attendee_count = IntegerField("参会人数", default=0, validators=[
        InputRequired("请填写参会人数。"), NumberRange(min=0, max=100000, message="参会人数应在 0–100000 之间。")])
    organiser = StringField("组织者", validators=[DataRequired("请填写组织者。"), Length(max=64, message="组织者最多 64 字。")])
    location = StringField("地点（可选）", validators=[Optional(), Length(max=128, message="地点最多 128 字。")])

    def validate_estate_ids(self, field):
        # Not DataRequired: that would mark every checkbox "required" in the page.
        if not field.data:
            raise ValidationError("请至少选择一个小区。")


class NewMeetingForm(MeetingForm):
    minutes_file = FileField("纪要文件（.docx 或 .txt）", validators=[
        Optional(), FileAllowed(["docx", "txt"], "只支持 Word 文档（.docx）或纯文本文件（.txt）。")])
    minutes_text = TextAreaField("或直接粘贴纪要文字", validators=[
        Optional(), Length(max=MAX_TEXT_CHARS, message=f"纪要过长（最多 {MAX_TEXT_CHARS} 字），请分次录入。")])


class PointEntry(PlainForm):
    """One row of the split editor (a subform: the outer form carries the CSRF token)."""

    class Meta(PlainMeta):
        pass

    speaker = StringField("发言人", validators=[Optional(), Length(max=64, message="发言人最多 64 字。")])
    text = TextAreaField("内容")
    cursor = HiddenField()  # where the caret was, filled in by minutes.js, for 拆分


class PointsForm(Form):
    points = FieldList(FormField(PointEntry), min_entries=0, max_entries=MAX_POINTS)


class TagForm(Form):
    themes = SelectMultipleField("主题（1–3 个，最重要的在前）", choices=[])
    urgent = BooleanField("紧急（危及生命财产安全）")


class CloseForm(Form):
    outcomes = TextAreaField("会议结论（议定事项、答复口径）", validators=[
        DataRequired("请填写会议结论。"), Length(max=5000, message="会议结论最多 5000 字。")])


class ActionForm(Form):
    description = StringField("落实事项", validators=[DataRequired("请填写要落实的事项。"), Length(max=500, message="事项最多 500 字。")])
    owner = StringField("责任人或单位", validators=[DataRequired("请填写责任人或责任单位。"), Length(max=64, message="责任人最多 64 字。")])
    due_on = DateField("完成期限", validators=[DataRequired("请填写完成期限（年-月-日）。")])


class EmptyForm(Form):
    """For buttons that only post: carries the CSRF token."""

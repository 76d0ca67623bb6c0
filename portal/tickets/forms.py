from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import BooleanField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from portal.core.forms import Form
from portal.tickets.models import REQUEST_TYPES, SATISFACTION_LEVELS


class TicketForm(Form):
    caller_name = StringField("来电人", validators=[Optional(), Length(max=64)])
    caller_phone = StringField("联系电话", validators=[Optional(), Length(max=32)])
    request_type = SelectField("诉求类型", choices=[("", "（未选）")] + [(t, t) for t in REQUEST_TYPES])
    address = StringField("诉求地址", validators=[Optional(), Length(max=256)])
    title = StringField("诉求标题", validators=[Optional(), Length(max=256)])
    content = TextAreaField("诉求内容", validators=[DataRequired("请填写诉求内容。"), Length(max=20000)])


class TagForm(Form):
    themes = SelectMultipleField("主题（1–3 个，最重要的在前）", choices=[])
    urgent = BooleanField("紧急")


class PlaceForm(Form):
    estate_id = SelectField("小区", coerce=int, choices=[])


class DispatchForm(Form):
    street_id = SelectField("承办街道", coerce=int, choices=[])
    note = StringField("派单说明", validators=[Optional(), Length(max=500)])


class ReasonForm(Form):
    reason = TextAreaField("退单理由", validators=[DataRequired("退单必须写明理由。"), Length(max=2000)])


class ResolveForm(Form):
    resolution = TextAreaField("办理结果", validators=[DataRequired("请填写办理结果。"), Length(max=5000)])


class CallbackForm(Form):
    satisfaction = SelectField("满意度", choices=[(s, s) for s in SATISFACTION_LEVELS])
    note = StringField("回访记录", validators=[Optional(), Length(max=2000)])


class MergeForm(Form):
    target_number = StringField("并入工单编号", validators=[DataRequired("请填写要并入的工单编号。"), Length(max=64)])


class ImportForm(Form):
    file = FileField("工单文件（.xlsx 或 .csv）", validators=[
        FileRequired("请选择文件。"), FileAllowed(["xlsx", "csv"], "只支持 .xlsx 或 .csv 文件。")])
    skip_invalid = BooleanField("跳过有错误的行，只导入正确的行（默认：有错误则整个文件不导入）")

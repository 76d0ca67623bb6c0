from wtforms import BooleanField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from portal.core.forms import Form

MIN_CONTENT = 5
MAX_CONTENT = 1000


class SuggestionForm(Form):
    # Choices are every estate; the template renders them grouped by street and community.
    estate_id = SelectField("您所在的小区", coerce=lambda v: int(v) if str(v).isdigit() else 0, choices=[],
                            validate_choice=False)
    content = TextAreaField("您的意见或建议", validators=[
        DataRequired("请写下您的意见或建议。"),
        Length(min=MIN_CONTENT, max=MAX_CONTENT, message=f"请用 {MIN_CONTENT}–{MAX_CONTENT} 个字写下您的建议。")])
    contact_name = StringField("怎么称呼您（可不填）", validators=[Optional(), Length(max=32, message="称呼最多 32 个字。")])
    contact_phone = StringField("联系电话（可不填，方便我们联系您）", validators=[Optional(), Length(max=20, message="电话号码太长了。")])
    website = StringField("网址（请留空）")  # honeypot: hidden from people, filled in by bots

    def validate_estate_id(self, field):
        if field.data not in {value for value, _ in field.choices}:
            raise ValidationError("请选择您所在的小区。")


class ReplyForm(Form):
    reply = TextAreaField("回复居民（居民凭专属链接查看）", validators=[
        DataRequired("请填写回复内容。"), Length(max=2000, message="回复最多 2000 字。")])


class TagForm(Form):
    themes = SelectMultipleField("主题（1–3 个，最重要的在前）", choices=[])
    urgent = BooleanField("紧急（危及生命财产安全）")

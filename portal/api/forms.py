from wtforms import SelectField, StringField
from wtforms.validators import DataRequired, Length

from portal.core.forms import Form


class ApiKeyForm(Form):
    name = StringField("名称（使用该密钥的系统或单位）",
                       validators=[DataRequired("请填写密钥名称。"), Length(max=64, message="名称最多 64 个字。")])
    street_id = SelectField("范围", coerce=int, choices=[])

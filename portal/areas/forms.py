from portal.core.forms import Form
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import DecimalField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional


class StreetForm(Form):
    name = StringField("街道名称", validators=[DataRequired("请填写名称。"), Length(max=64)])


class CommunityForm(Form):
    street_id = SelectField("所属街道", coerce=int, choices=[])
    name = StringField("社区名称", validators=[DataRequired("请填写名称。"), Length(max=64)])


class EstateForm(Form):
    community_id = SelectField("所属社区", coerce=int, choices=[])
    name = StringField("小区名称", validators=[DataRequired("请填写名称。"), Length(max=64)])
    aliases = TextAreaField("别名（每行一个，如俗称、旧名）", validators=[Optional(), Length(max=2000)])
    address_patterns = TextAreaField(
        "地址特征（每行一个，道路加门牌，如“和平路12号”“和平路10-20号”）",
        validators=[Optional(), Length(max=2000)],
    )
    household_count = IntegerField("户数", default=0,
                                   validators=[Optional(), NumberRange(min=0, max=100000, message="户数应在 0–100000 之间。")])
    built_year = IntegerField("建成年份", validators=[Optional(), NumberRange(min=1900, max=2100, message="年份应在 1900–2100 之间。")])
    latitude = DecimalField("纬度", places=6, validators=[Optional(), NumberRange(min=-90, max=90, message="纬度应在 -90 到 90 之间。")])
    longitude = DecimalField("经度", places=6, validators=[Optional(), NumberRange(min=-180, max=180, message="经度应在 -180 到 180 之间。")])


class HouseholdForm(Form):
    building = StringField("楼栋", validators=[DataRequired("请填写楼栋。"), Length(max=32)])
    unit = StringField("单元", validators=[Optional(), Length(max=32)])
    room = StringField("房号", validators=[DataRequired("请填写房号。"), Length(max=32)])
    area_m2 = DecimalField("专有部分面积（m²）", places=2,
                           validators=[DataRequired("请填写面积。"), NumberRange(min=0.01, max=2000, message="面积应在 0.01–2000 之间。")])
    occupancy = SelectField("业主/租户", choices=[("owner", "业主"), ("tenant", "租户")])
    owner_id_number = StringField("业主证件号（可选）", validators=[Optional(), Length(max=32)])


class RosterUploadForm(Form):
    file = FileField("住户名册文件（.xlsx 或 .csv）", validators=[
        FileRequired("请选择文件。"),
        FileAllowed(["xlsx", "csv"], "只支持 .xlsx 或 .csv 文件。"),
    ])

from portal.core.forms import Form
from wtforms import PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional

from portal.accounts.models import ROLE_LABELS


class LoginForm(Form):
    username = StringField("用户名", validators=[DataRequired("请输入用户名。"), Length(max=64)])
    password = PasswordField("密码", validators=[DataRequired("请输入密码。"), Length(max=256)])


class UserForm(Form):
    username = StringField("用户名", validators=[DataRequired("请输入用户名。"), Length(min=3, max=64)])
    display_name = StringField("姓名", validators=[Optional(), Length(max=64)])
    role = SelectField("角色", choices=[(r.value, label) for r, label in ROLE_LABELS.items()])
    street_id = SelectField("所属街道（街道工作人员必填）", coerce=int, choices=[], validate_choice=False)
    password = PasswordField("初始密码", validators=[DataRequired("请输入密码。"), Length(min=8, max=256, message="密码至少 8 位。")])


class EmptyForm(Form):
    """For POST-only buttons (logout, deactivate): CSRF and nothing else."""

from flask_wtf import FlaskForm


class Form(FlaskForm):
    """Base form: WTForms' own messages ("不是有效的选择。") in Chinese, without Flask-Babel."""

    class Meta:
        locales = ["zh"]

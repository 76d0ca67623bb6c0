import re

from flask_wtf import FlaskForm
from wtforms import FieldList, FormField
from wtforms.i18n import get_translations

CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
CJK = re.compile(r"[\u4e00-\u9fff]")


def drop_control_characters(value):
    """Typed text never holds these; PostgreSQL refuses NUL in text, so one would be a 500."""
    return CONTROL_CHARACTERS.sub("", value) if isinstance(value, str) else value


class DropControlCharacters:
    """Form Meta mixin: every field of the form filters its data through drop_control_characters."""

    def bind_field(self, form, unbound_field, options):
        if issubclass(unbound_field.field_class, (FieldList, FormField)):  # they take no filters; their fields do
            return super().bind_field(form, unbound_field, options)
        filters = [drop_control_characters, *unbound_field.kwargs.get("filters", ())]
        return super().bind_field(form, unbound_field, {**options, "filters": filters})


# WTForms' and Flask-WTF's default messages (every msgid of WTForms 3.3's wtforms.pot, plus flask_wtf.file).
# Our own: the bundled zh catalogue marks some entries fuzzy (so they stay English, e.g. a checkbox list's
# "'3' is not a valid choice for this field."), leaves some empty and lacks the newer ones. A few wordings
# that pages already show ("不是有效的选择。") are kept. A refused choice does not echo the posted value.
MESSAGES = {
    "Invalid field name '%s'.": "字段名“%s”无效。",
    "Field must be equal to %(other_name)s.": "必须与“%(other_name)s”一致。",
    "Field must be at least %(min)d character long.": "至少 %(min)d 个字。",
    "Field must be at least %(min)d characters long.": "至少 %(min)d 个字。",
    "Field cannot be longer than %(max)d character.": "最多 %(max)d 个字。",
    "Field cannot be longer than %(max)d characters.": "最多 %(max)d 个字。",
    "Field must be exactly %(max)d character long.": "应为 %(max)d 个字。",
    "Field must be exactly %(max)d characters long.": "应为 %(max)d 个字。",
    "Field must be between %(min)d and %(max)d characters long.": "应为 %(min)d–%(max)d 个字。",
    "Number must be at least %(min)s.": "不能小于 %(min)s。",
    "Number must be at most %(max)s.": "不能大于 %(max)s。",
    "Number must be between %(min)s and %(max)s.": "应在 %(min)s–%(max)s 之间。",
    "Date must be at least %(min)s.": "日期不能早于 %(min)s。",
    "Date must be at most %(max)s.": "日期不能晚于 %(max)s。",
    "Date must be between %(min)s and %(max)s.": "日期应在 %(min)s 至 %(max)s 之间。",
    "This field is required.": "此项必填。",
    "Invalid input.": "格式不对，请检查。",
    "Invalid email address.": "电子邮箱地址无效。",
    "Invalid IP address.": "IP 地址无效。",
    "Invalid Mac address.": "MAC 地址无效。",
    "Invalid URL.": "网址无效。",
    "Invalid UUID.": "UUID 无效。",
    "Invalid value, must be one of: %(values)s.": "取值无效，只能是：%(values)s。",
    "Invalid value, can't be any of: %(values)s.": "取值无效，不能是：%(values)s。",
    "This field cannot be edited.": "此项不能修改。",
    "This field is disabled and cannot have a value.": "此项已停用，不能填写。",
    "Invalid CSRF Token.": "页面校验失败，请刷新页面后重新提交。",
    "CSRF token missing.": "页面校验失败，请刷新页面后重新提交。",
    "CSRF failed.": "页面校验失败，请刷新页面后重新提交。",
    "CSRF token expired.": "页面已过期，请刷新页面后重新提交。",
    "Invalid Choice: could not coerce.": "不是有效的选择。",
    "Choices cannot be None.": "没有可选的项。",
    "Not a valid choice.": "不是有效的选择。",
    "Invalid choice(s): one or more data inputs could not be coerced.": "所选的项中有无效的选择。",
    "'%(value)s' is not a valid choice for this field.": "所选的项不在可选范围内。",
    "'%(value)s' are not valid choices for this field.": "所选的项不在可选范围内。",
    "Not a valid datetime value.": "不是有效的日期与时间值。",
    "Not a valid date value.": "不是有效的日期值。",
    "Not a valid time value.": "不是有效的时间值。",
    "Not a valid week value.": "不是有效的周。",
    "Not a valid integer value.": "不是有效的整数。",
    "Not a valid decimal value.": "不是有效的数字。",
    "Not a valid float value.": "不是有效的数字。",
    "File does not have an approved extension: {extensions}": "不支持这种文件，只能上传：{extensions}。",
    "File does not have an approved extension.": "不支持这种文件类型。",
}
# flask_wtf.file.FileSize builds its msgid with the numbers already in it.
FILE_SIZE = re.compile(r"File must be between (\d+) and (\d+) bytes\.")
FALLBACK = "填写的内容不符合要求，请检查。"


class ChineseTranslations:
    """WTForms translations object: our table, then the bundled zh catalogue; never English."""

    def __init__(self):
        self.bundled = get_translations(["zh"])

    def gettext(self, string):
        return self._chinese(string, self.bundled.gettext(string))

    def ngettext(self, singular, plural, n):
        string = singular if n == 1 else plural
        return self._chinese(string, self.bundled.ngettext(singular, plural, n))

    @staticmethod
    def _chinese(string, bundled):
        if string in MESSAGES:
            return MESSAGES[string]
        if match := FILE_SIZE.fullmatch(string):
            return f"文件大小应在 {match[1]}–{match[2]} 字节之间。"
        return bundled if CJK.search(bundled) else FALLBACK


TRANSLATIONS = ChineseTranslations()


class ChineseMessages:
    """Form Meta mixin: WTForms' and Flask-WTF's default messages in Chinese (no Flask-Babel needed)."""

    def get_translations(self, form):
        return TRANSLATIONS


class Meta(ChineseMessages, DropControlCharacters):
    """Meta for a plain wtforms.Form (a FormField subform): the same messages and filters as Form."""


class Form(FlaskForm):
    """Base form: Chinese default messages, control characters dropped from every field."""

    class Meta(ChineseMessages, DropControlCharacters):
        pass

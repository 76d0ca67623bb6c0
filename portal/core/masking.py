"""Personal data shown by role (DESIGN.md §1): full to operators and district_admin, masked to others."""
from typing import Optional


def mask_id_number(value: Optional[str]) -> str:
    """Owner ID numbers are shown to nobody in full: keep the first 4 and last 4 characters."""
    if not value:
        return ""
    if len(value) <= 8:
        return value[0] + "*" * (len(value) - 1)
    return value[:4] + "*" * (len(value) - 8) + value[-4:]


def caller_name_for(user, name: Optional[str]) -> str:
    from nlp.mask import mask_name

    if not name:
        return ""
    return name if getattr(user, "sees_personal_data", False) else mask_name(name)


def caller_phone_for(user, phone: Optional[str]) -> str:
    from nlp.mask import mask_phone

    if not phone:
        return ""
    return phone if getattr(user, "sees_personal_data", False) else mask_phone(phone)


def text_for(user, text: Optional[str]) -> str:
    """Free text can carry phone numbers and names too ("来电人张三，电话138…")."""
    from nlp.mask import mask_text

    if not text:
        return ""
    return text if getattr(user, "sees_personal_data", False) else mask_text(text)

from wtforms import StringField, TextAreaField
from wtforms.validators import Length, Optional

from portal.core.forms import Form
from portal.projects.models import FACTORS


class WeightsForm(Form):
    """Five weights typed as text: the service checks them (range, all present, sum 1) and says what is wrong."""
    demand = StringField(f"{FACTORS[0][1]}（默认 {FACTORS[0][2]}）")
    support = StringField(f"{FACTORS[1][1]}（默认 {FACTORS[1][2]}）")
    urgency = StringField(f"{FACTORS[2][1]}（默认 {FACTORS[2][2]}）")
    category = StringField(f"{FACTORS[3][1]}（默认 {FACTORS[3][2]}）")
    cost = StringField(f"{FACTORS[4][1]}（默认 {FACTORS[4][2]}）")
    note = TextAreaField("调整说明（记入历史）", validators=[Optional(), Length(max=500, message="说明最多 500 个字。")])

    def weights(self) -> dict[str, str]:
        return {code: self[code].data for code, _, _ in FACTORS}

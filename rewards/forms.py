from django import forms

from . import rules
from .models import Reward


class CertificateCodeGenerateForm(forms.Form):
    count = forms.IntegerField(**rules.COUNT.bounds, initial=1000)
    reward = forms.ModelChoiceField(
        queryset=Reward.objects.order_by("name"),
        required=False,
        empty_label="The bank (no reward)",
        help_text="Leave empty to fill the bank of unassociated codes that any reward draws on.",
    )
    length = forms.IntegerField(**rules.LENGTH.bounds, initial=10)
    charset = forms.ChoiceField(
        choices=[(name, f"{name} ({alphabet})") for name, alphabet in sorted(rules.CHARSETS.items())],
        initial="unambiguous",
    )

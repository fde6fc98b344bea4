"""Forms of the portal that Django's own auth forms do not cover."""

from django import forms
from django.core.validators import RegexValidator


class OneTimeCodeForm(forms.Form):
    """The six digits an authenticator app shows."""

    code = forms.CharField(
        label="Code",
        max_length=6,
        min_length=6,
        strip=True,
        validators=[RegexValidator(r"^\d{6}$", "Enter the six digits of the code.")],
        widget=forms.TextInput(
            attrs={
                "autocomplete": "one-time-code",
                "inputmode": "numeric",
                "pattern": "[0-9]{6}",
            }
        ),
    )

from django import forms
from oauth2_provider.forms import AllowForm


class ConsentForm(AllowForm):
    """The toolkit's consent form, carrying the chosen company along."""

    group_id = forms.CharField(widget=forms.HiddenInput())

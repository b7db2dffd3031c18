"""Forms: the lookup box and the import upload."""

from django import forms

from .client import extract_response_id


class LookupForm(forms.Form):
    q = forms.CharField(
        label="Response id or URL",
        max_length=2000,
        widget=forms.TextInput(
            attrs={"placeholder": "resp_… or https://platform.openai.com/logs/resp_…"}
        ),
    )

    def clean_q(self) -> str:
        try:
            return extract_response_id(self.cleaned_data["q"])
        except ValueError as error:
            raise forms.ValidationError(str(error)) from None

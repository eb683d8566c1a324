"""The admin's form fields: placements and strategies from the registry, every variant checked together."""

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Field

from .models import Metric
from .placements import get_placement, placement_keys
from .services import check_variants


def choice_field(db_field: Field) -> forms.Field | None:
    """The placement, guardrail and strategy fields as choices of what is registered; None for the others."""
    if db_field.name == "placement":
        return forms.ChoiceField(choices=[(key, key) for key in placement_keys()], help_text=db_field.help_text)
    if db_field.name == "guardrails":
        return forms.MultipleChoiceField(
            choices=Metric.choices, required=False, widget=forms.CheckboxSelectMultiple, help_text=db_field.help_text
        )
    if db_field.name == "strategy":
        names = sorted({name for key in placement_keys() for name in get_placement(key).strategies()})
        return forms.ChoiceField(choices=[(name, name) for name in names])
    return None


class VariantFormSet(forms.BaseInlineFormSet):
    def clean(self) -> None:
        super().clean()
        if any(self.errors):
            return
        kept = [form.instance for form in self.forms if form.cleaned_data and not form.cleaned_data.get("DELETE")]
        try:
            check_variants(self.instance.placement, kept)
        except ValidationError as error:
            raise ValidationError(error.messages) from error

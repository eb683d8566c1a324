"""The search-by-photo form: the shopper's photo, the part of it to search with, and filters.

It checks only the fields' types; the photo and the crop box are checked by ``services.search_photo``, for the
page and the API alike.
"""

from collections import Counter
from typing import Any

from django import forms
from django.conf import settings

from recommendations.vectors.neighbours import Scope
from shop.selectors import ProductFilters, navigation_tree

from .services import CROP_FIELDS, PhotoSearch


class PhotoSearchForm(forms.Form):
    image = forms.FileField(
        label="Photo",
        error_messages={
            "required": "Choose a photo to search with.",
            "empty": "The file is empty.",
            "invalid": "No file was received: choose a photo again.",
        },
        widget=forms.FileInput(attrs={"accept": "image/*"}),
    )
    crop_left = forms.FloatField(required=False, widget=forms.HiddenInput)
    crop_top = forms.FloatField(required=False, widget=forms.HiddenInput)
    crop_width = forms.FloatField(required=False, widget=forms.HiddenInput)
    crop_height = forms.FloatField(required=False, widget=forms.HiddenInput)
    gender = forms.ChoiceField(label="Gender", required=False)
    master_category = forms.ChoiceField(label="Category", required=False)
    in_stock = forms.BooleanField(label="In stock only", required=False)

    # The file input is visually replaced by a dropzone when JavaScript runs; the server says what is missing.
    use_required_attribute = False

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        genders, categories = _filter_values()
        self.fields["gender"].choices = [("", "All genders"), *((name, name) for name in genders)]
        self.fields["master_category"].choices = [("", "All categories"), *((name, name) for name in categories)]
        self.fields["image"].widget.attrs["data-max-bytes"] = settings.SEARCH_PHOTO_MAX_BYTES

    @property
    def max_megabytes(self) -> str:
        return f"{settings.SEARCH_PHOTO_MAX_BYTES / 1_000_000:g}"

    def photo_search(self, *, k: int) -> PhotoSearch:
        """The search the valid form asks for."""
        data = self.cleaned_data
        selected = {name: (data[name],) for name in ("gender", "master_category") if data.get(name)}
        return PhotoSearch(
            upload=data["image"],
            crop_sides=[data.get(name) for name in CROP_FIELDS],
            scope=Scope(filters=ProductFilters(selected), in_stock=data.get("in_stock", False)),
            k=k,
        )


def _filter_values() -> tuple[list[str], list[str]]:
    """Genders and master categories of the catalogue, largest first."""
    departments = navigation_tree()
    totals: Counter[str] = Counter()
    for gender in departments:
        for category in gender.children:
            totals[category.name] += category.count
    return [gender.name for gender in departments], sorted(totals, key=lambda name: (-totals[name], name))

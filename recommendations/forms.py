"""The search-by-photo form: the shopper's photo, the part of it to search with, and filters."""

from collections import Counter
from typing import Any

from django import forms
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile

from shop.selectors import ProductFilters, navigation_tree

from .neighbours import Scope
from .photos import Crop, PhotoError, open_photo

CROP_FIELDS = ("crop_left", "crop_top", "crop_width", "crop_height")


class PhotoSearchForm(forms.Form):
    """Valid once the photo can be decoded and the crop box lies on it.

    ``cleaned_data`` then also holds ``photo`` (the upright PIL image), ``crop`` (``Crop`` or ``None`` for
    the whole photo) and ``scope`` (the filters as a ``Scope``).
    """

    # A FileField, not an ImageField: ``open_photo`` does the decoding, with the limits and messages it owns.
    image = forms.FileField(
        label="Photo",
        error_messages={
            "required": "Choose a photo to search with.",
            "empty": "The file is empty.",
            "invalid": "No file was received: choose a photo again.",
        },
        widget=forms.FileInput(attrs={"accept": "image/*"}),
    )
    crop_left = forms.FloatField(min_value=0, max_value=1, required=False, widget=forms.HiddenInput)
    crop_top = forms.FloatField(min_value=0, max_value=1, required=False, widget=forms.HiddenInput)
    crop_width = forms.FloatField(min_value=0, max_value=1, required=False, widget=forms.HiddenInput)
    crop_height = forms.FloatField(min_value=0, max_value=1, required=False, widget=forms.HiddenInput)
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
        # The status code of a refused search: a photo that cannot be searched says its own (413, 415).
        self.error_status: int = 400

    @property
    def max_megabytes(self) -> str:
        return f"{settings.SEARCH_PHOTO_MAX_BYTES / 1_000_000:g}"

    def clean_image(self) -> UploadedFile:
        upload = self.cleaned_data["image"]
        try:
            self.cleaned_data["photo"] = open_photo(upload, size=upload.size)
        except PhotoError as error:
            self.error_status = error.status
            raise forms.ValidationError(error.message, code="photo") from error
        return upload

    def clean(self) -> dict[str, Any]:
        cleaned_data = super().clean()
        cleaned_data["crop"] = self._crop(cleaned_data)
        selected = {name: (cleaned_data[name],) for name in ("gender", "master_category") if cleaned_data.get(name)}
        cleaned_data["scope"] = Scope(filters=ProductFilters(selected), in_stock=cleaned_data.get("in_stock", False))
        return cleaned_data

    def _crop(self, cleaned_data: dict[str, Any]) -> Crop | None:
        values = [cleaned_data.get(name) for name in CROP_FIELDS]
        if all(value is None for value in values):
            return None
        if any(value is None for value in values):
            if not any(name in self.errors for name in CROP_FIELDS):
                self.add_error(None, "The crop box was incomplete: choose the part of the photo again.")
            return None
        try:
            return Crop(*values)
        except PhotoError as error:
            self.add_error(None, error.message)
            return None


def _filter_values() -> tuple[list[str], list[str]]:
    """Genders and master categories of the catalogue, largest first."""
    departments = navigation_tree()
    totals: Counter[str] = Counter()
    for gender in departments:
        for category in gender.children:
            totals[category.name] += category.count
    return [gender.name for gender in departments], sorted(totals, key=lambda name: (-totals[name], name))

"""Shoppers' saved delivery addresses. Signing up, logging in and passwords are django-allauth's (on Django's
``User``)."""

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models

phone_validator = RegexValidator(r"^\+?[0-9][0-9 ()-]{6,19}$", "Enter a phone number: digits, with spaces if you like.")
postcode_validator = RegexValidator(r"^[0-9A-Za-z][0-9A-Za-z -]{2,11}$", "Enter a postcode (PIN code).")


class Address(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="addresses")
    full_name = models.CharField("full name", max_length=100)
    phone = models.CharField(max_length=20, validators=[phone_validator], help_text="For the courier.")
    line1 = models.CharField("address", max_length=200)
    line2 = models.CharField("address (line 2)", max_length=200, blank=True)
    city = models.CharField("town or city", max_length=100)
    state = models.CharField(max_length=100)
    postcode = models.CharField("postcode (PIN)", max_length=12, validators=[postcode_validator])
    country = models.CharField(max_length=100, default="India")
    is_default = models.BooleanField("default address", default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-is_default", "-created_at", "-pk"]
        verbose_name_plural = "addresses"
        constraints = [
            models.UniqueConstraint(
                fields=["user"], condition=models.Q(is_default=True), name="address_one_default_per_user"
            )
        ]

    def __str__(self) -> str:
        return ", ".join(self.lines())

    def lines(self) -> list[str]:
        """The address as it is written on a parcel, one line each."""
        place = " ".join(part for part in (self.city, self.postcode) if part)
        return [part for part in (self.full_name, self.line1, self.line2, place, self.state, self.country) if part]

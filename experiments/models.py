"""A/B tests: an experiment pits variants (a strategy and its parameters) against each other on one placement."""

import secrets

from django.contrib.postgres.fields import ArrayField
from django.core.validators import MinValueValidator
from django.db import models


class Metric(models.TextChoices):
    CLICK_THROUGH = "ctr", "click-through rate"
    ADD_TO_CART = "add_to_cart", "add-to-cart rate"
    CONVERSION = "conversion", "conversion"
    REVENUE = "revenue", "revenue per visitor"


def new_salt() -> str:
    return secrets.token_hex(8)


class Experiment(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "draft"
        RUNNING = "running", "running"
        STOPPED = "stopped", "stopped"

    name = models.CharField(max_length=100)
    placement = models.CharField(max_length=64, help_text="Where the variants are shown.")
    primary_metric = models.CharField(max_length=16, choices=Metric.choices, default=Metric.CLICK_THROUGH)
    guardrails = ArrayField(
        models.CharField(max_length=16, choices=Metric.choices),
        default=list,
        blank=True,
        help_text="Metrics that must not get significantly worse, e.g. revenue per visitor.",
    )
    # Part of each visitor's hash: a visitor's variant in one experiment says nothing of their variant in another.
    salt = models.CharField(max_length=32, default=new_salt, editable=False)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.DRAFT, editable=False)
    started_at = models.DateTimeField(null=True, blank=True, editable=False)
    stopped_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["placement"],
                condition=models.Q(status="running"),
                name="experiments_one_running_per_placement",
                violation_error_message="Another experiment is already running on this placement.",
            )
        ]

    def __str__(self) -> str:
        return self.name


class Variant(models.Model):
    experiment = models.ForeignKey(Experiment, on_delete=models.CASCADE, related_name="variants")
    key = models.SlugField(max_length=32, help_text='A short name, e.g. "control" or "b".')
    strategy = models.CharField(max_length=64)
    parameters = models.JSONField(default=dict, blank=True, help_text='For example {"limit": 4}.')
    weight = models.PositiveIntegerField(
        default=1, validators=[MinValueValidator(1)], help_text="Traffic share: this weight over all the weights."
    )
    is_control = models.BooleanField(default=False, help_text="The variant the others are compared with.")

    class Meta:
        ordering = ["-is_control", "pk"]
        constraints = [models.UniqueConstraint(fields=["experiment", "key"], name="experiments_variant_key")]

    def __str__(self) -> str:
        return f"{self.key} ({self.strategy})"


class Exposure(models.Model):
    """A visitor who was shown the placement while the experiment ran, the first time, and the variant they got."""

    experiment = models.ForeignKey(Experiment, on_delete=models.CASCADE, related_name="exposures")
    variant = models.ForeignKey(Variant, on_delete=models.CASCADE, related_name="exposures")
    # What the assignment hashes: the browser's visitor id, or a signed-in shopper's first browser (sticky across
    # browsers and across logging in).
    unit = models.CharField(max_length=40)
    visitor_id = models.UUIDField()
    exposed_at = models.DateTimeField(db_index=True)
    synthetic = models.BooleanField(default=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["experiment", "unit"], name="experiments_exposure_unit")]

    def __str__(self) -> str:
        return f"{self.unit} saw {self.variant.key}"

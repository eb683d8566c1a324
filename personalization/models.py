"""Trained recommendation models: what the scheduled training writes and every web process serves from."""

from django.db import models

# Bumped when the algorithms' pickled state changes: processes serve only runs of their own format (an older run is
# as good as none until the next training).
ARTIFACT_FORMAT = 2


class TrainedModel(models.Model):
    """One training run of one algorithm: its fitted state (pickled), and what it was trained on."""

    name = models.CharField(max_length=64, db_index=True)
    trained_at = models.DateTimeField(auto_now_add=True, db_index=True)
    events = models.PositiveIntegerField(help_text="Events in the log it learnt from.")
    shoppers = models.PositiveIntegerField()
    products = models.PositiveIntegerField()
    seconds = models.FloatField(help_text="How long training took.")
    details = models.JSONField(default=dict, blank=True, help_text="Parameters and what training found.")
    artifact = models.BinaryField()

    class Meta:
        ordering = ["-trained_at", "-pk"]
        get_latest_by = "trained_at"

    def __str__(self) -> str:
        return f"{self.name} of {self.trained_at:%Y-%m-%d %H:%M}"

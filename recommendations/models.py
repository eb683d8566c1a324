from django.db import models
from django.db.models import Q
from pgvector.django import VectorField

from shop.models import Product


class EmbeddingSpace(models.Model):
    """One set of embeddings: a backbone at one version of its weights and preprocessing.

    A new space is built next to the one in use and replaces it only once it is
    complete, so similar items never go empty while a model is being switched
    (see ``recommendations.vectors.selectors.serving_space``).
    """

    class State(models.TextChoices):
        BUILDING = "building", "Building"
        COMPLETE = "complete", "Complete"

    backbone = models.CharField(max_length=64)
    version = models.CharField(max_length=128, unique=True)
    dimensions = models.PositiveIntegerField()
    state = models.CharField(max_length=16, choices=State.choices, default=State.BUILDING)
    created_at = models.DateTimeField(auto_now_add=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.version


class ProductEmbedding(models.Model):
    """A product's image embedding in one space, or the reason it could not be computed."""

    class Status(models.TextChoices):
        OK = "ok", "Embedded"
        FAILED = "failed", "Failed"

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="embeddings")
    space = models.ForeignKey(EmbeddingSpace, on_delete=models.CASCADE, related_name="embeddings")
    # Dimensionless on purpose: spaces of different sizes share the table, each with
    # a partial HNSW index on a cast to its own size (see recommendations.vectors.index).
    vector = VectorField(null=True, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices)
    error = models.TextField(blank=True)
    # The image the vector was computed from: a different product image makes it stale.
    image_sha256 = models.CharField(max_length=64)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["space", "product"], name="one_embedding_per_space"),
            models.CheckConstraint(
                condition=Q(status="ok", vector__isnull=False) | Q(status="failed", vector__isnull=True),
                name="vector_iff_ok",
            ),
        ]
        indexes = [models.Index(fields=["space", "status"])]

    def __str__(self) -> str:
        return f"{self.product_id} in {self.space_id}: {self.status}"

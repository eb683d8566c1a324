"""What the API tests share: URLs, results, and the products and photos they ask about."""

import io

from django.urls import reverse
from PIL import Image

from shop.models import Product


def detail_url(product: Product) -> str:
    return reverse("api:product-detail", args=[product.pk])


def similar_url(product: Product) -> str:
    return reverse("api:product-similar", args=[product.pk])


def absolute(path: str) -> str:
    return f"http://testserver{path}"


def ids(response) -> list[int]:
    return [item["id"] for item in response.json()["results"]]


def with_image(**filters) -> Product:
    return Product.objects.exclude(image="").filter(**filters).order_by("pk").first()


def png(image: Image.Image, name: str = "photo.png") -> io.BytesIO:
    photo = io.BytesIO()
    image.save(photo, format="PNG")
    photo.seek(0)
    photo.name = name
    return photo

"""What the tests of accounts, bags and orders share: shoppers, sizes with stock, and a bag to check out."""

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from cart import services as cart_services
from cart.models import Cart, Wishlist
from orders.models import Order
from orders.services import ShippingAddress
from shop.models import Product, Sku
from shop.services import refresh_in_stock

PASSWORD = "a-long-test-password-42"
# Fixture products (tests/fixtures/catalogue): a men's sports shoe in six sizes and a women's top in four, both
# priced and payable on delivery; their stock is not tracked until a test sets it.
SHOE, TOP = 2477, 2483
ADDRESS = ShippingAddress(
    full_name="Asha Rao",
    phone="+91 98450 12345",
    line1="12 MG Road",
    city="Bengaluru",
    state="Karnataka",
    postcode="560001",
)


@contextmanager
def browser_accounts(admin: str, shopper_email: str) -> Iterator[None]:
    """An admin account, committed for a server process to see. Afterwards: the admin, the shopper's account (with
    its bag, wishlist and addresses) and orders, and the visitors' bags and wishlists made meanwhile, deleted."""
    started = timezone.now()
    users = get_user_model().objects
    users.filter(username__in=[admin, shopper_email]).delete()
    users.create_superuser(admin, f"{admin}@example.com", PASSWORD)
    try:
        yield
    finally:
        Order.objects.filter(email=shopper_email).delete()
        users.filter(username=admin).delete()
        users.filter(email=shopper_email).delete()
        Cart.objects.filter(user=None, created_at__gte=started).delete()
        Wishlist.objects.filter(user=None, created_at__gte=started).delete()


def make_user(email: str = "shopper@example.com", **extra):
    return get_user_model().objects.create_user(username=email, email=email, password=PASSWORD, **extra)


def size(product_id: int, index: int = 0) -> Sku:
    """The product's ``index``-th size, with its product."""
    return Sku.objects.select_related("product").filter(product_id=product_id).order_by("position", "pk")[index]


def set_stock(sku: Sku, stock: int | None) -> Sku:
    sku.stock = stock
    sku.save(update_fields=["stock"])
    refresh_in_stock([sku.product_id])
    sku.refresh_from_db()
    sku.product.refresh_from_db()
    return sku


def set_product(product_id: int, **fields) -> Product:
    Product.objects.filter(pk=product_id).update(**fields)
    return Product.objects.get(pk=product_id)


def bag_of(user, *lines: tuple[Sku, int]):
    cart = cart_services.get_or_create_cart(user)
    for sku, quantity in lines:
        cart_services.add_to_cart(cart, sku.pk, quantity)
    return cart


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """Passwords hashed in a blink: these tests create and log in many shoppers. (A server process started by a test
    hashes with the real settings: what it must check is hashed before this applies, in module-scoped fixtures.)"""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def shopper(db):
    return make_user()


@pytest.fixture
def shopper_client(client, shopper):
    client.force_login(shopper)
    return client

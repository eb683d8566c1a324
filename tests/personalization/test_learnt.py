"""The learnt and content strategies on the fixture catalogue: trained from the log in process, served with the
visitor folded in from their latest events (the list changes after the next click), cold start, and the rules."""

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from events.models import Event
from personalization import model_store, training
from personalization.models import TrainedModel
from personalization.registry import get_strategy
from personalization.strategies.base import Context
from shop.models import Product
from tests.personalization.helpers import log

pytestmark = pytest.mark.django_db

LEARNT = ["for_you", "for_you_als", "for_you_bpr", "shoppers_like_you"]


def ids(**filters) -> list[int]:
    return list(Product.objects.filter(**filters).order_by("pk").values_list("pk", flat=True))


@pytest.fixture
def tastes() -> dict[str, list[int]]:
    """Two kinds of shopper: men who like t-shirts and watches, women who like tops, bags and watches."""
    return {
        "men": ids(gender="Men", article_type__in=["Tshirts", "Watches", "Shirts"]),
        "women": ids(gender="Women", article_type__in=["Tops", "Handbags", "Watches", "Kurtas"]),
    }


@pytest.fixture
def trained(tastes) -> None:
    for products in tastes.values():
        for shopper in range(25):
            visitor = uuid.uuid4()
            for position, product in enumerate(products):
                if (shopper + position) % 3:
                    log("view", product, visitor, hours_ago=48 - position)
    model_store.forget()
    training.train()
    yield
    model_store.forget()


def visitor_with(*products: int, kind: str = "view") -> uuid.UUID:
    visitor = uuid.uuid4()
    for position, product in enumerate(products):
        log(kind, product, visitor, hours_ago=1 - position / 100)
    return visitor


def test_training_stores_each_model_with_what_it_learnt_from(trained) -> None:
    hybrid = TrainedModel.objects.get(name="hybrid")
    assert hybrid.shoppers == 50
    assert hybrid.events == Event.objects.filter(kind="view").count()
    assert TrainedModel.objects.filter(name="bpr").exists()


@pytest.mark.parametrize("name", LEARNT)
def test_a_visitor_gets_products_of_their_taste_they_have_not_seen(trained, tastes, name) -> None:
    seen = tastes["women"][:2]
    visitor = visitor_with(*seen)
    found = get_strategy(name).recommend(Context(visitor_id=visitor, limit=4))
    assert found
    assert not {item.product.pk for item in found} & set(seen)
    women = sum(item.product.pk in tastes["women"] for item in found)
    assert women > len(found) / 2, [item.product for item in found]


@pytest.mark.parametrize("name", LEARNT)
def test_the_list_changes_after_the_next_click(trained, tastes, name) -> None:
    visitor = visitor_with(*tastes["women"][:2])
    before = [item.product.pk for item in get_strategy(name).recommend(Context(visitor_id=visitor, limit=4))]
    for product in tastes["men"][:4]:
        log("click", product, visitor)
    after = [item.product.pk for item in get_strategy(name).recommend(Context(visitor_id=visitor, limit=4))]
    assert before != after
    assert sum(pk in tastes["men"] for pk in after) > sum(pk in tastes["men"] for pk in before)


def test_a_newcomer_and_a_shop_before_its_first_training_get_nothing_to_fall_back_from(tastes) -> None:
    model_store.forget()
    assert get_strategy("for_you").recommend(Context(visitor_id=visitor_with(tastes["men"][0]))) == []


@pytest.mark.usefixtures("trained")
def test_for_you_leaves_out_the_bag_and_what_was_just_bought(tastes) -> None:
    visitor = visitor_with(*tastes["women"][:2])
    first = [item.product.pk for item in get_strategy("for_you").recommend(Context(visitor_id=visitor, limit=4))]
    context = Context(visitor_id=visitor, limit=4, cart_product_ids=frozenset(first[:1]),
                      bought_product_ids=frozenset(first[1:2]))  # fmt: skip
    again = [item.product.pk for item in get_strategy("for_you").recommend(context)]
    assert not set(again) & set(first[:2])


def test_content_for_you_needs_one_view_and_no_training(embedded_catalogue) -> None:
    watches = ids(article_type="Watches", gender="Men")
    visitor = visitor_with(watches[0])
    assert not TrainedModel.objects.exists()
    found = get_strategy("for_you_content").recommend(Context(visitor_id=visitor, limit=3))
    # two watches first (no more: at most two of one article type), though nothing was trained
    assert [item.product.article_type for item in found][:2] == ["Watches", "Watches"]
    assert watches[0] not in {item.product.pk for item in found}
    assert found[0].reason == "Looks like the watches you viewed"


def purchase(order_id: int, *products: int, days_ago: float = 1) -> None:
    at = timezone.now() - timedelta(days=days_ago)
    visitor = uuid.uuid4()
    Event.objects.bulk_create(
        Event(kind="purchase", product_id=product, visitor_id=visitor, created_at=at, order_id=order_id)
        for product in products
    )


def test_bought_together_brings_other_article_types_from_the_same_orders() -> None:
    shirt, other_shirt = ids(gender="Men", article_type="Tshirts")[:2]
    shoes = ids(gender="Men", article_type="Sports Shoes")[0]
    wallet = ids(gender="Men", article_type="Wallets")[0]
    purchase(1, shirt, other_shirt, shoes)
    purchase(2, shirt, shoes, wallet)
    found = get_strategy("bought_together").recommend(Context(product=Product.objects.get(pk=shirt), gender="Men"))
    assert [item.product.pk for item in found][:2] == [shoes, wallet]
    assert other_shirt not in {item.product.pk for item in found}
    assert found[0].reason == "Often bought together with this"


def test_a_product_without_orders_gets_the_article_types_orders_pair_with_its_own() -> None:
    shirt, unsold_shirt = ids(gender="Men", article_type="Tshirts")[:2]
    shoes = ids(gender="Men", article_type="Sports Shoes")
    purchase(1, shirt, shoes[0])
    found = get_strategy("bought_together").recommend(
        Context(product=Product.objects.get(pk=unsold_shirt), gender="Men")
    )
    assert found and {item.product.article_type for item in found} == {"Sports Shoes"}
    assert found[0].reason == "Completes the look: sports shoes"


def test_complete_your_order_on_the_bag_page(client) -> None:
    from tests.commerce import size

    shirt = ids(gender="Men", article_type="Tshirts")[0]
    watch = ids(gender="Men", article_type="Watches")[0]
    purchase(1, shirt, watch)
    client.post("/bag/add/", {"product": shirt, "sku": size(shirt).pk, "quantity": 1})
    page = client.get("/bag/").content.decode()
    assert "Complete your order" in page
    assert f"/products/{watch}/" in page

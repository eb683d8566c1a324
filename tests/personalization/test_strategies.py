"""Each strategy's ranking on a small hand-made log, and the rules every list obeys."""

import random
import uuid

import pytest
from django.core.cache import cache
from django.test import override_settings
from django.utils import timezone

from events.models import Event
from events.popularity import rebuild_popularity
from events.recorder import recorder
from personalization.filters import apply_rules
from personalization.strategies.base import Candidate, Context
from personalization.strategies.co_occurrence import AlsoBought, AlsoViewed
from personalization.strategies.recently_viewed import RecentlyViewed
from personalization.strategies.trending import Trending
from shop.models import Product
from tests.personalization.helpers import log, products

pytestmark = pytest.mark.django_db

VIEW, CART, PURCHASE = Event.Kind.VIEW, Event.Kind.CART_ADD, Event.Kind.PURCHASE


def ids(recommendations) -> list[int]:
    return [item.product.pk for item in recommendations]


def test_trending_weighs_purchases_over_carts_over_views_and_decays_with_age():
    bought, carted, viewed, old, outside = products(5, gender="Men")
    log(PURCHASE, bought)  # 5
    log(CART, carted, hours_ago=1)  # 3, barely decayed
    log(VIEW, viewed, times=2)  # 2
    log(VIEW, old, hours_ago=24 * 9, times=8)  # 8 halved three times: 1
    log(VIEW, outside, hours_ago=24 * 40, times=50)  # beyond the 30-day window
    log(Event.Kind.IMPRESSION, outside, times=50)  # not a signal of interest

    found = Trending("trending").recommend(Context(limit=10))

    assert ids(found) == [bought, carted, viewed, old]
    assert found[0].reason == "Trending now"
    assert found[0].score == pytest.approx(5, rel=0.01)


def test_trending_within_a_gender_keeps_to_it_and_unisex_and_within_a_category():
    men, women = products(1, gender="Men")[0], products(1, gender="Women")[0]
    unisex = products(1, gender="Unisex")[0]
    log(VIEW, men, times=5)
    log(VIEW, women, times=3)
    log(VIEW, unisex, times=1)

    for_women = Trending("trending").recommend(Context(gender="Women", limit=10))
    overall = Trending("trending").recommend(Context(limit=10))
    category = Product.objects.get(pk=women).master_category
    in_category = Trending("trending").recommend(Context(gender="Women", category=category, limit=10))

    assert ids(for_women) == [women, unisex]
    assert for_women[0].reason == "Trending in Women"
    assert ids(overall) == [men, women, unisex]
    same_category = Product.objects.get(pk=unisex).master_category == category
    assert ids(in_category) == [women] + ([unisex] if same_category else [])


def test_trending_picks_up_a_new_product_at_once():
    established, new = products(2, gender="Women")
    log(VIEW, established, hours_ago=24 * 5, times=6)  # 6 halved 5/3 times: about 1.9
    strategy = Trending("trending")
    assert ids(strategy.recommend(Context(limit=10))) == [established]

    log(CART, new)
    assert ids(strategy.recommend(Context(limit=10))) == [established]  # cached for a minute
    cache.clear()  # the minute is over

    assert ids(strategy.recommend(Context(limit=10))) == [new, established]


def test_trending_ranks_and_scores_as_the_decayed_weighted_sum_counted_by_hand():
    chosen = random.Random(17)
    catalogue = products(10)
    weights = {VIEW: 1.0, CART: 3.0, PURCHASE: 5.0}
    expected: dict[int, float] = {}
    for product in catalogue:
        for _ in range(chosen.randint(1, 6)):
            kind, hours_ago = chosen.choice(list(weights)), chosen.uniform(0, 24 * 20)
            log(kind, product, hours_ago=hours_ago)
            expected[product] = expected.get(product, 0.0) + weights[kind] * 2 ** (-hours_ago / 72)

    found = Trending("trending").recommend(Context(limit=10))

    assert ids(found) == sorted(expected, key=lambda product: (-expected[product], -product))
    assert {item.product.pk: item.score for item in found} == pytest.approx(expected, rel=1e-3)


def test_a_new_event_moves_a_product_up_at_once_through_the_logs_writer():
    leader, follower = products(2, gender="Women")
    log(VIEW, leader, times=3)
    log(VIEW, follower, times=2)
    strategy = Trending("trending")
    assert [candidate.product_id for candidate in strategy.candidates(Context(), 10)] == [leader, follower]

    recorder.record(  # what a page's cart add records (at once: the tests do not buffer)
        {"kind": CART, "product_id": follower, "visitor_id": uuid.uuid4(), "created_at": timezone.now()}
    )

    assert [candidate.product_id for candidate in strategy.candidates(Context(), 10)] == [follower, leader]


def test_trending_after_rebuilding_from_the_log_is_trending_as_the_writers_kept_it():
    catalogue = products(8)
    chosen = random.Random(3)
    for product in catalogue:
        log(chosen.choice([VIEW, CART, PURCHASE]), product, hours_ago=chosen.uniform(0, 24 * 10), times=2)
    kept = Trending("trending").candidates(Context(), 20)

    rebuild_popularity()

    rebuilt = Trending("trending").candidates(Context(), 20)
    assert [candidate.product_id for candidate in rebuilt] == [candidate.product_id for candidate in kept]
    assert [candidate.score for candidate in rebuilt] == pytest.approx([candidate.score for candidate in kept])


def test_also_viewed_ranks_by_how_many_shoppers_viewed_both():
    seed, often, once, unrelated = products(4, gender="Men")
    shoppers = [uuid.uuid4() for _ in range(3)]
    for shopper in shoppers:
        log(VIEW, seed, shopper)
    log(VIEW, often, shoppers[0])
    log(VIEW, often, shoppers[1], times=4)  # one shopper counts once, however often they looked
    log(VIEW, once, shoppers[2])
    log(VIEW, once, uuid.uuid4(), times=9)  # a shopper who never saw the seed
    log(VIEW, unrelated, uuid.uuid4(), times=9)
    log(VIEW, unrelated, shoppers[0], hours_ago=24 * 40)  # beyond the window

    found = AlsoViewed("also_viewed").recommend(Context(product=Product.objects.get(pk=seed), limit=10))

    assert ids(found) == [often, once]
    assert [item.score for item in found] == [2, 1]
    assert found[0].reason == "Shoppers who viewed this also viewed it"


def test_also_bought_counts_purchases_only():
    seed, bought_too, only_viewed = products(3, gender="Men")
    shopper = uuid.uuid4()
    log(PURCHASE, seed, shopper)
    log(PURCHASE, bought_too, shopper)
    log(VIEW, only_viewed, shopper, times=5)

    found = AlsoBought("also_bought").recommend(Context(product=Product.objects.get(pk=seed), limit=10))

    assert ids(found) == [bought_too]


def test_recently_viewed_is_the_visitors_own_trail_latest_first():
    first, second, third, someone_elses = products(4)
    me = uuid.uuid4()
    log(VIEW, first, me, hours_ago=3)
    log(VIEW, second, me, hours_ago=2)
    log(VIEW, third, me, hours_ago=1)
    log(VIEW, first, me)  # again, most recently
    log(VIEW, someone_elses)
    log(CART, second, me)  # a cart add is not a view (and this context has no cart)

    found = RecentlyViewed("recently_viewed").recommend(Context(visitor_id=me, limit=10))

    assert ids(found) == [first, third, second]
    assert RecentlyViewed("recently_viewed").recommend(Context(visitor_id=None)) == []


def test_the_rules_leave_out_the_cart_what_was_just_bought_the_page_sold_out_and_other_genders():
    in_cart, bought, on_page, sold_out, kept, unisex = products(6, gender__in=["Women"])[:5] + products(
        1, gender="Unisex"
    )
    men = products(1, gender="Men")[0]
    Product.objects.filter(pk=sold_out).update(in_stock=False)
    candidates = [Candidate(pk, 1.0, "r") for pk in [in_cart, bought, on_page, sold_out, men, kept, unisex]]
    context = Context(
        product=Product.objects.get(pk=on_page),
        cart_product_ids=frozenset([in_cart]),
        bought_product_ids=frozenset([bought]),
        gender="Women",
        limit=10,
    )

    assert [product.pk for product, _ in apply_rules(candidates, context)] == [kept, unisex]
    assert [product.pk for product, _ in apply_rules(candidates, Context(limit=2))] == [in_cart, bought]


def test_the_rules_cap_how_many_of_one_article_type_fill_a_list():
    tshirts = list(Product.objects.filter(article_type="Tshirts").order_by("pk").values_list("pk", flat=True)[:4])
    shirt = Product.objects.filter(article_type="Shirts").order_by("pk").first().pk
    candidates = [Candidate(pk, 1.0, "r") for pk in [*tshirts, shirt]]

    with override_settings(PERSONALIZATION_MAX_PER_ARTICLE_TYPE=2):
        capped = [product.pk for product, _ in apply_rules(candidates, Context(limit=10))]
        uncapped = [product.pk for product, _ in apply_rules(candidates, Context(limit=10), cap_article_types=False)]

    assert capped == [*tshirts[:2], shirt]
    assert uncapped == [*tshirts, shirt]

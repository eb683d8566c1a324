"""Frequently bought together / complete the look: what went into the same orders as this product (or the cart's
products), of other article types than theirs, so that a shirt brings trousers and shoes rather than another shirt.
A product nobody has ordered yet gets a content fallback: the article types that orders pair with its own (or, in a
shop without orders, a fixed outfit table), in its gender and usage, most popular first."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from typing import ClassVar

from django.conf import settings
from django.core.cache import cache
from django.db import connections, router
from django.db.models import Count, Q
from django.utils import timezone

from events.models import Event, ProductPopularity
from shop.models import Product

from ..filters import product_q
from .base import Candidate, Context, Strategy

# Sub-categories that complete an outfit with each other, when orders cannot tell yet.
OUTFITS: dict[str, tuple[str, ...]] = {
    "Topwear": ("Bottomwear", "Shoes", "Watches"),
    "Bottomwear": ("Topwear", "Shoes", "Belts"),
    "Dress": ("Shoes", "Bags", "Jewellery"),
    "Saree": ("Jewellery", "Sandal", "Bags"),
    "Shoes": ("Topwear", "Bottomwear", "Socks"),
    "Sandal": ("Topwear", "Bottomwear", "Bags"),
    "Flip Flops": ("Topwear", "Bottomwear"),
    "Watches": ("Topwear", "Shoes", "Eyewear"),
    "Bags": ("Dress", "Shoes", "Jewellery"),
    "Innerwear": ("Loungewear and Nightwear", "Socks"),
}
COMPLEMENTS_CACHE_SECONDS = 3600
COMPLEMENTS_KEY = "personalization:complements"
COMPLEMENT_TYPES = 4
# Popular products read per place in the fallback, for those of the seeds' usage to be found among them.
USAGE_POOL = 4


def _purchases():
    since = timezone.now() - timedelta(days=settings.PERSONALIZATION_TRAINING_DAYS)
    return Event.objects.filter(kind=Event.Kind.PURCHASE, created_at__gte=since, order_id__isnull=False)


def complement_table() -> dict[str, list[tuple[str, int]]]:
    """For each article type, the other types ordered with it and in how many orders, most first (one query over
    the purchases of the training window, cached for an hour): a shop's own outfits."""
    table = cache.get(COMPLEMENTS_KEY)
    if table is None:
        # A replica inside recommend()'s stale_reads_ok(), else the primary.
        with connections[router.db_for_read(Event)].cursor() as cursor:
            cursor.execute(
                f"""
                WITH bought AS (
                    SELECT DISTINCT e.order_id, p.article_type FROM {Event._meta.db_table} e
                    JOIN {Product._meta.db_table} p ON p.id = e.product_id
                    WHERE e.kind = 'purchase' AND e.order_id IS NOT NULL AND e.created_at >= %s
                      AND p.article_type IS NOT NULL
                )
                SELECT mine.article_type, other.article_type, count(*) AS orders
                FROM bought mine JOIN bought other
                  ON other.order_id = mine.order_id AND other.article_type <> mine.article_type
                GROUP BY mine.article_type, other.article_type ORDER BY orders DESC, other.article_type
                """,
                [timezone.now() - timedelta(days=settings.PERSONALIZATION_TRAINING_DAYS)],
            )
            table = {}
            for mine, other, orders in cursor.fetchall():
                table.setdefault(mine, []).append((other, orders))
        cache.set(COMPLEMENTS_KEY, table, COMPLEMENTS_CACHE_SECONDS)
    return table


def complementary_types(article_types: set[str]) -> list[str]:
    """The article types most often ordered together with these, other than these."""
    counts: Counter[str] = Counter()
    table = complement_table()
    for article_type in article_types:
        counts.update(dict(table.get(article_type, [])))
    return [other for other, _ in counts.most_common() if other not in article_types][:COMPLEMENT_TYPES]


class BoughtTogether(Strategy):
    label = "bought together"
    needs = ("product",)
    reason: ClassVar[str] = "Often bought together with this"

    def seeds(self, context: Context) -> set[int]:
        return {context.product.pk} if context.product is not None else set()

    def cache_key(self, context: Context) -> str | None:
        seeds = self.seeds(context)
        return ",".join(map(str, sorted(seeds))) + f":{context.gender}" if seeds else None

    def candidates(self, context: Context, count: int) -> list[Candidate]:
        seeds = self.seeds(context)
        if not seeds:
            return []
        seed_rows = list(Product.objects.filter(pk__in=seeds).values("article_type", "sub_category", "usage"))
        types = {row["article_type"] for row in seed_rows if row["article_type"]}
        orders = _purchases().filter(product_id__in=seeds).values("order_id")
        together = (
            _purchases()
            .filter(product_q(context, "product__"), order_id__in=orders)
            .exclude(product_id__in=seeds)
            .exclude(product__article_type__in=types)
            .values("product_id")
            .annotate(orders=Count("order_id", distinct=True))
            .order_by("-orders", "-product_id")[:count]
        )
        found = [Candidate(row["product_id"], float(row["orders"]), self.reason) for row in together]
        if len(found) < count:
            taken = seeds | {candidate.product_id for candidate in found}
            found += self.complete_the_look(context, seed_rows, types, count - len(found), taken)
        return found

    def complete_the_look(
        self, context: Context, seed_rows: list[dict], types: set[str], count: int, taken: set[int]
    ) -> list[Candidate]:
        """The content fallback: the most popular products of the complementary article types (one scan of the
        popularity score's index, as trending), those of the seeds' usage first."""
        complements = complementary_types(types)
        sub_categories = {row["sub_category"] for row in seed_rows}
        outfit = {other for sub in sub_categories for other in OUTFITS.get(sub, ())}

        def wanted(prefix: str = "") -> Q:
            if complements:
                return Q(**{f"{prefix}article_type__in": complements})
            return Q(**{f"{prefix}sub_category__in": outfit})

        usages = Counter(row["usage"] for row in seed_rows if row["usage"])
        usage = usages.most_common(1)[0][0] if usages else None
        popular = (
            ProductPopularity.objects.filter(wanted("product__"), product_q(context, "product__"))
            .exclude(product_id__in=taken)
            .order_by("-score", "-product_id")
            .values_list("product_id", "product__article_type", "product__usage")[: count * USAGE_POOL]
        )
        ranked = sorted(popular, key=lambda row: row[2] != usage)  # stable: popularity within each group
        if len(ranked) < count:  # a young shop: products nobody has looked at yet, newest first
            chosen = {row[0] for row in ranked}
            rest = (
                Product.objects.filter(wanted(), product_q(context))
                .exclude(pk__in=taken | chosen)
                .order_by("-added_at", "-pk")
                .values_list("pk", "article_type", "usage")[: count - len(ranked)]
            )
            ranked += list(rest)
        return [
            Candidate(product_id, 0.0, f"Completes the look: {article_type.lower()}")
            for product_id, article_type, _ in ranked[:count]
        ]


class CompleteOrder(BoughtTogether):
    """The cart's "complete your order": bought together with what is in the cart."""

    label = "complete your order"
    needs = ("cart",)
    reason = "Often bought with what is in your bag"

    def seeds(self, context: Context) -> set[int]:
        return set(context.cart_product_ids)

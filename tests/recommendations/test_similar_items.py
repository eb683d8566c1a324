"""Similar items on the fixture catalogue, embedded with the default model (see ``embedded_catalogue``)."""

from collections import Counter
from collections.abc import Iterator

import numpy as np
import pytest
from django.db.models import Count
from django.test import override_settings

from recommendations.models import EmbeddingSpace, ProductEmbedding
from recommendations.vectors.index import from_vector_bytes, index_name, stored_vector, vector_bytes
from recommendations.vectors.neighbours import (
    Neighbour,
    Scope,
    index_scan_settings,
    nearest,
    nearest_to_any,
    neighbours_query,
)
from recommendations.vectors.ranking import collapse_duplicates
from recommendations.vectors.selectors import SimilarOptions, similar_products
from shop.models import Product, Sku
from shop.selectors import ProductFilters
from tests.catalogues import set_stock
from tests.shelves import SHELVES

pytestmark = pytest.mark.django_db


@pytest.fixture
def space(embedded_catalogue: EmbeddingSpace) -> EmbeddingSpace:
    return embedded_catalogue


def vector_of(space: EmbeddingSpace, product_id: int) -> np.ndarray:
    row = ProductEmbedding.objects.filter(space=space, product_id=product_id).annotate(data=vector_bytes()).get()
    return from_vector_bytes(row.data)


def exact_ranking(space: EmbeddingSpace, query: np.ndarray, products) -> list[int]:
    """Every product of the queryset by cosine distance to ``query``, computed here with numpy."""
    rows = ProductEmbedding.objects.filter(space=space, status="ok", product__in=products).annotate(data=vector_bytes())
    ids = [row.product_id for row in rows]
    vectors = np.stack([from_vector_bytes(row.data) for row in rows])
    return [ids[i] for i in np.argsort(1.0 - vectors @ query, kind="stable")]


def duplicate_groups() -> list[list[int]]:
    shas = (
        Product.objects.exclude(image="")
        .values("image_sha256")
        .annotate(n=Count("pk"))
        .filter(n__gt=1)
        .values_list("image_sha256", flat=True)
    )
    groups: dict[str, list[int]] = {}
    for pk, sha in Product.objects.filter(image_sha256__in=shas).order_by("pk").values_list("pk", "image_sha256"):
        groups.setdefault(sha, []).append(pk)
    return list(groups.values())


@pytest.mark.parametrize(
    "options", [SimilarOptions(), SimilarOptions(same_gender=True, same_category=True, in_stock=True)], ids=repr
)
def test_the_similar_items_query_uses_the_spaces_hnsw_index(space: EmbeddingSpace, options: SimilarOptions) -> None:
    product = Product.objects.filter(gender="Men").exclude(image="").order_by("pk").first()
    query = neighbours_query(space, stored_vector(space, product.pk), limit=36, scope=options.scope_for(product))

    with index_scan_settings(36) as cursor:
        # On the fixture's 60 rows sorting them all costs the planner less than the index scan, so it may pick that
        # (on the 44k catalogue it picks the index). Priced out of sorting, it shows whether the index can answer
        # the query at all: the cast to the space's type and the partial index's predicate must match.
        cursor.execute("SET LOCAL enable_sort = off")
        plan = query.explain()
        cursor.execute("SHOW hnsw.iterative_scan")
        iterative = cursor.fetchone()[0]

    assert f"Index Scan using {index_name(space)}" in plan, plan
    assert "Sort" not in plan
    assert iterative == "relaxed_order"


def test_similar_items_are_the_nearest_products_best_first(space: EmbeddingSpace) -> None:
    product = Product.objects.exclude(image="").order_by("pk")[10]
    items = similar_products(product, k=12)

    assert len(items) == 12
    assert product.pk not in [item.product.pk for item in items]
    similarities = [item.similarity for item in items]
    assert similarities == sorted(similarities, reverse=True)
    exact = exact_ranking(space, vector_of(space, product.pk), Product.objects.exclude(pk=product.pk))
    # HNSW is approximate, but at this size it finds nearly all of the exact top 12.
    assert len({item.product.pk for item in items} & set(exact[:16])) >= 10
    query = vector_of(space, product.pk)
    for item in items:
        assert item.similarity == pytest.approx(float(vector_of(space, item.product.pk) @ query), abs=1e-5)


def test_copies_of_the_products_own_image_are_not_similar_items(space: EmbeddingSpace) -> None:
    group = next(group for group in duplicate_groups() if len(group) >= 2)
    product = Product.objects.get(pk=group[0])

    shown = [item.product.pk for item in similar_products(product, k=12)]
    shown += [pk for item in similar_products(product, k=12) for pk in item.duplicates]

    assert not set(group) & set(shown)
    assert len(similar_products(product, k=12)) == 12


def product_near_copies(space: EmbeddingSpace) -> Iterator[tuple[list[int], Product]]:
    """Groups of byte-identical products, each with a product whose exact 12 nearest include the whole group
    (nearness is not symmetric: the group's nearest product may have nearer ones of its own)."""
    for group in duplicate_groups():
        nearest = exact_ranking(space, vector_of(space, group[0]), Product.objects.exclude(pk__in=group))[0]
        product = Product.objects.get(pk=nearest)
        ranking = exact_ranking(space, vector_of(space, product.pk), Product.objects.exclude(pk=product.pk))
        if set(group) <= set(ranking[:12]):
            yield group, product


def test_byte_identical_neighbours_collapse_into_one_card(space: EmbeddingSpace) -> None:
    # A product among whose nearest pictures is one with copies: without collapsing, the copies would fill cards.
    group, product = next(product_near_copies(space))

    items = similar_products(product, k=12)

    cards = [item.product.pk for item in items]
    collapsed = [pk for item in items for pk in item.duplicates]
    assert len(set(group) & set(cards)) == 1
    assert set(group) - set(cards) <= set(collapsed)
    shas = Counter(item.product.image_sha256 for item in items)
    assert max(shas.values()) == 1
    assert len(items) == 12


def test_near_duplicates_collapse_by_distance() -> None:
    rng = np.random.default_rng(7)
    base = rng.normal(size=64).astype(np.float32)
    near = base + rng.normal(scale=0.01, size=64).astype(np.float32)
    other = rng.normal(size=64).astype(np.float32)
    vectors = [v / np.linalg.norm(v) for v in (base, near, other)]
    neighbours = [
        Neighbour(Product(pk=pk, image_sha256=f"sha-{pk}"), 0.0, vector)
        for pk, vector in zip([1, 2, 3], vectors, strict=True)
    ]
    distance = 1.0 - float(vectors[0] @ vectors[1])

    collapsed = collapse_duplicates(neighbours, threshold=distance + 1e-6)
    separate = collapse_duplicates(neighbours, threshold=distance - 1e-6)

    assert [(n.product.pk, dups) for n, dups in collapsed] == [(1, [2]), (3, [])]
    assert [(n.product.pk, dups) for n, dups in separate] == [(1, []), (2, []), (3, [])]


def test_filters_return_k_items_when_k_exist_beyond_the_index_scan(space: EmbeddingSpace) -> None:
    product = Product.objects.filter(article_type="Tshirts", gender="Men").exclude(image="").order_by("pk").first()
    # Keep in stock only the 15 products the farthest from it: an index scan without iteration never reaches them
    # (it stops at the pool of 36 candidates once ef_search is no larger; the default, 100, exceeds the fixture).
    exact = exact_ranking(space, vector_of(space, product.pk), Product.objects.exclude(pk=product.pk))
    in_stock = exact[-15:]
    assert len(exact) - 15 >= 36
    set_stock(list(Product.objects.values_list("pk", flat=True)), 0)
    set_stock(in_stock, 3)

    with override_settings(SIMILAR_ITEMS_EF_SEARCH=1):
        items = similar_products(product, k=12, options=SimilarOptions(in_stock=True))

    assert len(items) == 12
    assert {item.product.pk for item in items} <= set(in_stock)


def test_filters_return_every_match_when_fewer_than_k_exist(space: EmbeddingSpace) -> None:
    product = Product.objects.filter(gender="Women").exclude(image="").order_by("pk").first()
    women = Product.objects.filter(gender="Women").exclude(pk=product.pk).exclude(image="")
    available = list(women.exclude(image_sha256=product.image_sha256).values_list("pk", flat=True)[:5])
    set_stock(list(Product.objects.values_list("pk", flat=True)), 0)
    set_stock(available, 1)

    items = similar_products(product, k=12, options=SimilarOptions(same_gender=True, in_stock=True))

    assert sorted(pk for item in items for pk in [item.product.pk, *item.duplicates]) == sorted(available)


def test_same_gender_and_same_category_narrow_the_items(space: EmbeddingSpace) -> None:
    women_tops = Product.objects.filter(gender="Women", sub_category="Topwear").exclude(image="").order_by("pk")
    product = women_tops.first()
    assert women_tops.count() > 8 + 1  # 11 in the fixture

    items = similar_products(product, k=8, options=SimilarOptions(same_gender=True, same_category=True))

    assert len(items) == 8
    assert {(item.product.gender, item.product.sub_category) for item in items} == {("Women", "Topwear")}


def test_products_with_untracked_stock_count_as_in_stock(space: EmbeddingSpace) -> None:
    product = Product.objects.exclude(image="").order_by("pk")[3]
    neighbours = nearest(space, stored_vector(space, product.pk), limit=5, scope=Scope(in_stock=True))
    assert len(neighbours) == 5
    assert neighbours and all(n.product.in_stock for n in neighbours)
    assert not Sku.objects.filter(product__in=[n.product for n in neighbours], stock__isnull=False).exists()


def test_photo_style_queries_can_filter_by_any_facet(space: EmbeddingSpace) -> None:
    product = Product.objects.filter(master_category="Footwear").exclude(image="").order_by("pk").first()
    filters = {"master_category": ("Accessories",), "gender": ("Men", "Unisex")}
    in_scope = Product.objects.filter(master_category="Accessories", gender__in=["Men", "Unisex"]).exclude(image="")
    assert in_scope.count() > 5  # 7 in the fixture

    neighbours = nearest(space, vector_of(space, product.pk), limit=5, scope=Scope(filters=ProductFilters(filters)))

    assert len(neighbours) == 5
    assert {n.product.master_category for n in neighbours} == {"Accessories"}
    assert {n.product.gender for n in neighbours} <= {"Men", "Unisex"}


def test_several_queries_rank_each_product_by_its_best_match_with_the_handicaps(space: EmbeddingSpace) -> None:
    first, second = Product.objects.filter(article_type="Watches").exclude(image="").order_by("pk")[:2]
    queries = [(vector_of(space, first.pk), 0.0), (vector_of(space, second.pk), 0.05)]

    found = nearest_to_any(space, queries, limit=30)

    assert len(found) == 30 and found[0].distance < 1e-4  # the first query's own product (or a copy)
    assert [n.distance for n in found] == sorted(n.distance for n in found)
    assert abs(next(n for n in found if n.product.pk == second.pk).distance - 0.05) < 1e-4
    for neighbour in found:
        best = min(1 - float(neighbour.vector @ vector) + handicap for vector, handicap in queries)
        assert abs(neighbour.distance - best) < 1e-4
    # Nothing nearer to either query was left out.
    alone = nearest(space, queries[1][0], limit=30)
    assert {n.product.pk for n in alone if n.distance + 0.05 < found[-1].distance} <= {n.product.pk for n in found}


def test_reasons_name_the_attributes_shared_with_the_product(space: EmbeddingSpace) -> None:
    product = Product.objects.filter(article_type="Shirts").exclude(image="").order_by("pk").first()
    for item in similar_products(product, k=12):
        other = item.product
        assert ("Same type" in item.reasons) == (other.article_type == product.article_type)
        assert ("Same colour" in item.reasons) == (other.base_colour == product.base_colour)
        assert ("Same usage" in item.reasons) == (product.usage is not None and other.usage == product.usage)


def test_metadata_ranking_adds_the_weights_of_shared_attributes(space: EmbeddingSpace) -> None:
    product = Product.objects.filter(article_type="Casual Shoes").exclude(image="").order_by("pk").first()
    weights = {"article_type": 1.0, "base_colour": 0.25}

    with override_settings(SIMILAR_ITEMS_METADATA_WEIGHTS=weights):
        plain = similar_products(product, k=12, metadata_ranking=False)
        ranked = similar_products(product, k=12, metadata_ranking=True)

    assert [item.score for item in plain] == [item.similarity for item in plain]
    for item in ranked:
        boost = sum(w for name, w in weights.items() if getattr(item.product, name) == getattr(product, name))
        assert item.score == pytest.approx(item.similarity + boost)
    assert [item.score for item in ranked] == sorted((item.score for item in ranked), reverse=True)
    # A weight of 1 outweighs any visual difference: every shown item of the same type comes first.
    same_type = [item.product.article_type == product.article_type for item in ranked]
    assert same_type == sorted(same_type, reverse=True)
    assert sum(same_type) >= sum(item.product.article_type == product.article_type for item in plain)


def test_a_product_without_an_embedding_has_no_similar_items(space: EmbeddingSpace) -> None:
    product = Product.objects.exclude(image="").order_by("pk").first()
    ProductEmbedding.objects.filter(space=space, product=product).delete()

    assert similar_products(product) == []


def test_the_product_page_shows_twelve_similar_items(client, space: EmbeddingSpace) -> None:
    product = Product.objects.exclude(image="").order_by("pk")[20]

    response = client.get(product.get_absolute_url(), headers=SHELVES)

    assert response.status_code == 200
    items = response.context["similar"]
    assert len(items) == 12
    html = response.content.decode()
    assert html.count('class="card card--similar"') == 12
    for item in items:
        assert item.product.get_absolute_url() in html
    similar_section = html.split('id="similar-items"')[1]
    assert f'href="{product.get_absolute_url()}?lid=' not in similar_section
    assert f'href="{product.get_absolute_url()}"' not in similar_section


def test_the_product_page_options_narrow_the_similar_items(client, space: EmbeddingSpace) -> None:
    product = Product.objects.filter(gender="Men", sub_category="Topwear").exclude(image="").order_by("pk").first()

    response = client.get(product.get_absolute_url(), {"same_gender": "1", "same_category": "1"}, headers=SHELVES)

    items = response.context["similar"]
    assert len(items) == 12
    assert {(item.product.gender, item.product.sub_category) for item in items} == {("Men", "Topwear")}
    assert 'name="same_gender" value="1" checked' in response.content.decode()


def test_the_product_page_explains_when_nothing_matches(client, space: EmbeddingSpace) -> None:
    product = Product.objects.exclude(image="").order_by("pk").first()
    set_stock(list(Product.objects.values_list("pk", flat=True)), 0)

    response = client.get(product.get_absolute_url(), {"in_stock": "1"}, headers=SHELVES)

    assert response.context["similar"] == []
    assert "Nothing similar matches these options" in response.content.decode()

import uuid

from django.conf import settings
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.cache import patch_vary_headers
from django.utils.functional import SimpleLazyObject

from . import selectors
from .models import Product
from .selectors import ProductFilters
from .signals import catalogue_searched, product_viewed, products_listed

MAX_QUERY_LENGTH = 100
SHELVES_HEADER = "X-Shelves"
SORT_LABELS = {
    "relevance": "Relevance",
    "newest": "Newest",
    "price": "Price: low to high",
    "price_desc": "Price: high to low",
    "name": "Name (A-Z)",
}
# Ranges of the price filter offered as links, in rupees: (label, min, max).
PRICE_RANGES = [
    ("Under ₹500", None, 499),
    ("₹500 to ₹999", 500, 999),
    ("₹1,000 to ₹1,999", 1000, 1999),
    ("₹2,000 to ₹4,999", 2000, 4999),
    ("₹5,000 and above", 5000, None),
]


def home(request: HttpRequest) -> HttpResponse:
    shelves = selectors.home_shelves()
    for shelf in shelves:
        shelf.list_id = new_list_id()
        products_listed.send(
            sender=Product,
            request=request,
            list_id=shelf.list_id,
            placement=f"home: {shelf.title}",
            strategy="newest",
            product_ids=[product.pk for product in shelf.products],
        )
    return render(request, "shop/home.html", {"departments": selectors.navigation_tree(), "shelves": shelves})


def product_list(request: HttpRequest) -> HttpResponse:
    return _listing(request, query="")


def search(request: HttpRequest) -> HttpResponse:
    return _listing(request, query=_clean_query(request.GET.get("q", "")))


def product_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The product. Its shelves (similar items, recommendations) come after the page, from the same URL asked with
    ``X-Shelves: 1`` (static/shop/js/shelves.js), so that the product shows without waiting for them; in the page
    itself with ``?shelves=1``, the link offered without JavaScript."""
    if request.headers.get(SHELVES_HEADER) == "1":
        return _product_shelves(request, pk)
    product = selectors.product_detail(pk)
    if product is None:
        raise Http404("No such product.")
    product_viewed.send(sender=Product, request=request, product=product)
    context = {"product": product, "shelves_inline": "shelves" in request.GET}
    return _varies_with_shelves(render(request, "shop/product_detail.html", context))


def _product_shelves(request: HttpRequest, pk: int) -> HttpResponse:
    product = selectors.product_for_shelves(pk)
    if product is None:
        raise Http404("No such product.")
    return _varies_with_shelves(render(request, "shop/_product_shelves.html", {"product": product}))


def _varies_with_shelves(response: HttpResponse) -> HttpResponse:
    patch_vary_headers(response, [SHELVES_HEADER])
    return response


def _listing(request: HttpRequest, *, query: str) -> HttpResponse:
    filters = ProductFilters.from_querydict(request.GET)
    search = selectors.product_search(query) if query else None
    sort_options = [key for key in SORT_LABELS if query or key != "relevance"]
    sort = request.GET.get("sort") if request.GET.get("sort") in sort_options else sort_options[0]
    products = selectors.product_list(filters=filters, sort=sort, search=search)
    paginator = Paginator(products, settings.SHOP_PAGE_SIZE)
    paginator.count = selectors.product_count(filters=filters, search=search)  # cached, unlike the page's products
    page = paginator.get_page(request.GET.get("page"))
    list_id = new_list_id()
    products_listed.send(
        sender=Product,
        request=request,
        list_id=list_id,
        placement="search" if query else "listing",
        strategy=f"{'fuzzy ' if search and search.fuzzy else ''}{sort}",
        product_ids=[product.pk for product in page.object_list],
    )
    if query:
        catalogue_searched.send(sender=Product, request=request, query=query, results=page.paginator.count)
    context = {
        "list_id": list_id,
        "query": query,
        "fuzzy": bool(search and search.fuzzy),
        "filters": filters,
        # Counted only when the rendered filters are not in the cache (facets_key).
        "facets": SimpleLazyObject(lambda: selectors.facet_counts(filters=filters, search=search)),
        "facets_key": selectors.listing_fragment_key(request.GET),
        "sort": sort,
        "sort_options": [(key, SORT_LABELS[key]) for key in sort_options],
        "price_ranges": PRICE_RANGES,
        "page": page,
        "page_range": page.paginator.get_elided_page_range(page.number, on_each_side=2, on_ends=1),
        "title": _listing_title(filters, query),
    }
    return render(request, "shop/product_list.html", context)


def _clean_query(raw: str) -> str:
    # PostgreSQL rejects NUL in text; collapsing whitespace also turns "   " into no search at all.
    return " ".join(raw.replace("\x00", "").split())[:MAX_QUERY_LENGTH]


def _listing_title(filters: ProductFilters, query: str) -> str:
    if query:
        return f"Results for “{query}”"
    if filters:
        return " · ".join(" / ".join(values) for values in filters.selected.values())
    return "All products"


def new_list_id() -> str:
    """The id of one showing of a list of products: its links carry it, so that what follows is credited to it."""
    return uuid.uuid4().hex

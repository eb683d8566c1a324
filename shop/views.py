from django.conf import settings
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from . import selectors
from .selectors import ProductFilters

MAX_QUERY_LENGTH = 100
SORT_LABELS = {"relevance": "Relevance", "newest": "Newest", "name": "Name (A-Z)"}


def home(request: HttpRequest) -> HttpResponse:
    context = {"departments": selectors.navigation_tree(), "shelves": selectors.home_shelves()}
    return render(request, "shop/home.html", context)


def product_list(request: HttpRequest) -> HttpResponse:
    return _listing(request, query="")


def search(request: HttpRequest) -> HttpResponse:
    return _listing(request, query=_clean_query(request.GET.get("q", "")))


def product_detail(request: HttpRequest, pk: int) -> HttpResponse:
    product = selectors.product_detail(pk)
    if product is None:
        raise Http404("No such product.")
    return render(request, "shop/product_detail.html", {"product": product})


def _listing(request: HttpRequest, *, query: str) -> HttpResponse:
    filters = ProductFilters.from_querydict(request.GET)
    search = selectors.product_search(query) if query else None
    sort_options = [key for key in SORT_LABELS if query or key != "relevance"]
    sort = request.GET.get("sort") if request.GET.get("sort") in sort_options else sort_options[0]
    products = selectors.product_list(filters=filters, sort=sort, search=search)
    page = Paginator(products, settings.SHOP_PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "query": query,
        "fuzzy": bool(search and search.fuzzy),
        "filters": filters,
        "facets": selectors.facet_counts(filters=filters, search=search),
        "sort": sort,
        "sort_options": [(key, SORT_LABELS[key]) for key in sort_options],
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

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from shop import selectors as shop_selectors

from . import rules, selectors, services
from .forms import AddToCartForm, QuantityForm
from .services import CartError
from .sessions import current_cart, current_wishlist


@require_GET
def bag(request: HttpRequest) -> HttpResponse:
    return _bag_page(request)


@require_POST
def add(request: HttpRequest) -> HttpResponse:
    """The product page's "Add to bag". Back to the page with a message; when the size cannot be added, the page
    again (status 400) with the shopper's choices and what is wrong."""
    form = AddToCartForm(request.POST)
    if not form.is_valid():
        return _product_page_with_error(request, form, _first_error(form))
    data = form.cleaned_data
    try:
        line = services.add_to_cart(
            current_cart(request, create=True),
            data["sku"],
            data["quantity"],
            request=request,
            list_id=data["lid"],
        )
    except CartError as error:
        return _product_page_with_error(request, form, error.message)
    messages.success(request, f"Added to your bag: {rules.describe(line.sku)}.", extra_tags="bag")
    return _back(request, data["next"], line.sku.product.get_absolute_url())


@require_POST
def update(request: HttpRequest, sku_id: int) -> HttpResponse:
    form = QuantityForm(request.POST)
    try:
        if not form.is_valid():
            raise CartError(_first_error(form))
        services.set_quantity(_cart_or_404(request), sku_id, form.cleaned_data["quantity"], request=request)
    except CartError as error:
        messages.error(request, error.message)
        return _bag_page(request, status=error.status)
    return redirect("cart:detail")


@require_POST
def remove(request: HttpRequest, sku_id: int) -> HttpResponse:
    try:
        services.remove_line(_cart_or_404(request), sku_id, request=request)
    except CartError as error:
        messages.error(request, error.message)
        return _bag_page(request, status=error.status)
    return redirect("cart:detail")


@require_GET
def wishlist(request: HttpRequest) -> HttpResponse:
    products = selectors.wishlist_products(current_wishlist(request))
    return render(request, "cart/wishlist.html", {"products": products})


@require_POST
def wishlist_toggle(request: HttpRequest, product_id: int) -> HttpResponse:
    """The heart on product cards and pages: add the product to the wishlist, or take it off."""
    try:
        added = services.toggle_wishlist(current_wishlist(request, create=True), product_id, request=request)
    except CartError as error:
        raise Http404(error.message) from error
    messages.success(request, "Added to your wishlist." if added else "Removed from your wishlist.")
    return _back(request, request.POST.get("next", ""), reverse("cart:wishlist"))


def _bag_page(request: HttpRequest, *, status: int = 200) -> HttpResponse:
    summary = selectors.bag_summary(current_cart(request))
    return render(request, "cart/bag.html", {"bag": summary}, status=status)


def _cart_or_404(request: HttpRequest):
    cart = current_cart(request)
    if cart is None:
        raise CartError(services.NOT_IN_BAG, status=404)
    return cart


def _product_page_with_error(request: HttpRequest, form: AddToCartForm, message: str) -> HttpResponse:
    """The product page as it was, with the error: nothing the shopper chose is lost."""
    messages.error(request, message)
    product_id = form.cleaned_data.get("product") if hasattr(form, "cleaned_data") else None
    product = shop_selectors.product_detail(product_id) if product_id is not None else None
    if product is not None:
        # The page itself, not its view: the shopper is still on it, and this is no new view of the product.
        return render(request, "shop/product_detail.html", {"product": product}, status=400)
    return _bag_page(request, status=400)


def _first_error(form) -> str:
    return next(iter(form.errors.values()))[0]


def _back(request: HttpRequest, target: str, default: str) -> HttpResponseRedirect:
    """To ``target`` when it is a page of this site, else to ``default``."""
    safe = url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return redirect(target if target and safe else default)

from dataclasses import asdict

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from accounts import services as accounts_services
from accounts.models import Address
from accounts.selectors import addresses_of
from cart.selectors import bag_summary
from cart.sessions import current_cart

from . import selectors, services
from .delivery import delivery_methods
from .forms import CheckoutForm
from .payments import payment_methods
from .services import CheckoutError

JUST_PLACED = "orders_just_placed"


@login_required
@require_http_methods(["GET", "POST"])
def checkout(request: HttpRequest) -> HttpResponse:
    """Address, delivery and payment, then "Place order". Logging in (or signing up) on the way keeps the bag."""
    cart = current_cart(request)
    addresses = list(addresses_of(request.user))
    form = CheckoutForm(request.POST if request.method == "POST" else None, addresses=addresses)
    status = 200
    if request.method == "GET" and not bag_summary(cart):
        messages.info(request, "Your bag is empty: add something to it first.")
        return redirect("cart:detail")
    if request.method == "POST":
        status = 400
        if not form.is_valid():
            messages.error(request, "Some details are missing or wrong: see the marked fields.")
        else:
            try:
                order = services.place_order(
                    user=request.user,
                    cart=cart,
                    address=form.shipping_address(),
                    delivery=form.cleaned_data["delivery"],
                    payment=form.cleaned_data["payment"],
                    expected_subtotal=form.cleaned_data["expected_subtotal"],
                    request=request,
                )
            except CheckoutError as error:
                messages.error(request, error.message)
                status = error.status
            else:
                if form.new_address and form.cleaned_data["save_address"]:
                    accounts_services.save_address(Address(user=request.user, **asdict(form.shipping_address())))
                request.session[JUST_PLACED] = order.number
                return redirect(order)
    return render(request, "orders/checkout.html", _checkout_context(request, form, cart), status=status)


@login_required
@require_GET
def order_detail(request: HttpRequest, number: str) -> HttpResponse:
    """An order of the shopper's: its confirmation right after it is placed, its details and status later."""
    order = selectors.order_of(request.user, number)
    if order is None:
        raise Http404("No such order.")
    just_placed = request.session.get(JUST_PLACED) == order.number
    if just_placed:
        del request.session[JUST_PLACED]
    return render(request, "orders/order_detail.html", {"order": order, "just_placed": just_placed})


def _checkout_context(request: HttpRequest, form: CheckoutForm, cart) -> dict:
    bag = bag_summary(cart)
    chosen_delivery = _delivery_code(form.data.get("delivery") if form.is_bound else None)
    quote = services.quote(bag, chosen_delivery)
    payments = [(method, method.availability(bag)) for method in payment_methods().values()]
    chosen_payment = form.data.get("payment") if form.is_bound else None
    if chosen_payment is None:
        chosen_payment = next((method.code for method, availability in payments if availability.available), None)
    return {
        "form": form,
        "address_form": form.address_form,
        "chosen_address": form.data.get("address") if form.is_bound else form.fields["address"].initial,
        "bag": bag,
        "quote": quote,
        "deliveries": [(method, bag.subtotal + method.price) for method in delivery_methods().values()],
        "chosen_delivery": chosen_delivery,
        "payments": payments,
        "chosen_payment": chosen_payment,
    }


def _delivery_code(code: str | None) -> str:
    """The chosen delivery method, the first one by default."""
    methods = delivery_methods()
    return code if code in methods else next(iter(methods))

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from . import selectors, services
from .forms import AddressForm
from .models import Address


@login_required
def profile(request: HttpRequest) -> HttpResponse:
    """The shopper's account: e-mail, addresses, and (through the orders app's tag) their orders."""
    return render(request, "accounts/profile.html", {"addresses": selectors.addresses_of(request.user)})


@login_required
@require_http_methods(["GET", "POST"])
def address_create(request: HttpRequest) -> HttpResponse:
    return _address_form(request, Address(user=request.user))


@login_required
@require_http_methods(["GET", "POST"])
def address_edit(request: HttpRequest, pk: int) -> HttpResponse:
    return _address_form(request, _own_address(request, pk))


@login_required
@require_POST
def address_delete(request: HttpRequest, pk: int) -> HttpResponse:
    services.delete_address(_own_address(request, pk))
    messages.success(request, "The address was deleted.")
    return redirect("accounts:profile")


def _address_form(request: HttpRequest, address: Address) -> HttpResponse:
    form = AddressForm(request.POST or None, instance=address)
    if request.method == "POST":
        if form.is_valid():
            services.save_address(form.save(commit=False))
            messages.success(request, "The address was saved.")
            return redirect("accounts:profile")
        status = 400
    else:
        status = 200
    return render(request, "accounts/address_form.html", {"form": form, "address": address}, status=status)


def _own_address(request: HttpRequest, pk: int) -> Address:
    address = selectors.address_of(request.user, pk)
    if address is None:
        raise Http404("No such address.")
    return address

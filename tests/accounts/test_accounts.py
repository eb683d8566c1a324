"""Accounts: django-allauth's sign-up, log-in and password reset in the site's frame, and the profile with its
addresses."""

import re
from dataclasses import asdict

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.http import HttpRequest
from django.urls import reverse

from accounts import services
from accounts.models import Address
from tests.commerce import ADDRESS, PASSWORD, make_user

pytestmark = pytest.mark.django_db

PROFILE = reverse("accounts:profile")


def form_of(address=ADDRESS, **changes) -> dict:
    return asdict(address) | changes


def test_signing_up_logs_the_shopper_in_and_leads_to_the_profile(client):
    page = client.get(reverse("account_signup")).content.decode()
    assert '<header class="site-header">' in page  # allauth's pages are in the site's frame

    response = client.post(
        reverse("account_signup"), {"email": "asha@example.com", "password1": PASSWORD, "password2": PASSWORD}
    )

    assert response.status_code == 302
    assert response["Location"] == PROFILE
    user = get_user_model().objects.get(email="asha@example.com")
    assert client.get(PROFILE).context["user"] == user
    assert [message.to for message in mail.outbox] == [["asha@example.com"]]  # confirm your address (optional)


def test_a_bad_sign_up_says_why(client):
    make_user("taken@example.com")
    response = client.post(
        reverse("account_signup"), {"email": "taken@example.com", "password1": "short", "password2": "other"}
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "A user is already registered with this email address." in html


def test_logging_in_and_out(client):
    user = make_user()
    response = client.post(reverse("account_login"), {"login": user.email, "password": "wrong"})
    assert "The email address and/or password you specified are not correct." in response.content.decode()

    response = client.post(reverse("account_login"), {"login": user.email, "password": PASSWORD})
    assert response["Location"] == PROFILE
    assert "Log out" in client.get(PROFILE).content.decode()

    client.post(reverse("account_logout"))
    assert client.get(PROFILE)["Location"].startswith(reverse("account_login"))


def test_a_password_reset_is_sent_by_email_and_works(client):
    user = make_user()

    client.post(reverse("account_reset_password"), {"email": user.email})

    (message,) = mail.outbox
    assert message.to == [user.email]
    link = re.search(r"http://testserver(/accounts/password/reset/key/\S+/)", message.body)[1]
    form = client.get(link, follow=True)
    response = client.post(
        form.redirect_chain[-1][0] if form.redirect_chain else link,
        {"password1": "another-long-password-7", "password2": "another-long-password-7"},
    )
    assert response.status_code == 302
    # django-axes, which counts failed logins, refuses to authenticate without a request.
    assert client.login(request=HttpRequest(), username=user.username, password="another-long-password-7")


def test_the_profile_needs_a_login(client):
    response = client.get(PROFILE)
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('account_login')}?next={PROFILE}"


def test_addresses_are_added_edited_and_deleted_with_one_default(shopper_client, shopper):
    response = shopper_client.post(reverse("accounts:address-create"), form_of())
    assert response["Location"] == PROFILE
    first = Address.objects.get(user=shopper)
    assert first.is_default  # the first address is the default

    shopper_client.post(reverse("accounts:address-create"), form_of(full_name="Ravi Rao", is_default="on"))
    second = Address.objects.get(user=shopper, full_name="Ravi Rao")
    first.refresh_from_db()
    assert (first.is_default, second.is_default) == (False, True)
    html = shopper_client.get(PROFILE).content.decode()
    assert html.index("Ravi Rao") < html.index("Asha Rao")  # the default first
    assert "No orders yet." in html

    response = shopper_client.post(reverse("accounts:address-edit", args=[first.pk]), form_of(city="Mysuru"))
    assert response.status_code == 302
    first.refresh_from_db()
    assert first.city == "Mysuru"

    shopper_client.post(reverse("accounts:address-delete", args=[second.pk]))
    first.refresh_from_db()
    assert first.is_default  # the remaining address becomes the default
    assert list(Address.objects.filter(user=shopper)) == [first]


def test_a_bad_address_is_shown_again_with_its_errors(shopper_client, shopper):
    response = shopper_client.post(
        reverse("accounts:address-create"), form_of(phone="call me", postcode="", full_name="  Asha   Rao ")
    )

    assert response.status_code == 400
    html = response.content.decode()
    assert "Enter a phone number" in html and "This field is required." in html
    assert not Address.objects.filter(user=shopper).exists()


def test_a_shopper_cannot_reach_anothers_address(shopper_client):
    other = Address.objects.create(user=make_user("other@example.com"), **asdict(ADDRESS))

    assert shopper_client.get(reverse("accounts:address-edit", args=[other.pk])).status_code == 404
    assert shopper_client.post(reverse("accounts:address-delete", args=[other.pk])).status_code == 404
    assert Address.objects.filter(pk=other.pk).exists()


def test_saving_addresses_keeps_one_default(shopper):
    first = services.save_address(Address(user=shopper, **asdict(ADDRESS)))
    second = services.save_address(Address(user=shopper, **asdict(ADDRESS)), make_default=True)
    third = services.save_address(Address(user=shopper, **asdict(ADDRESS)))

    assert list(Address.objects.filter(user=shopper, is_default=True)) == [second]
    assert not third.is_default
    first.refresh_from_db()
    assert not first.is_default

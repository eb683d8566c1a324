"""Product cards come from the cache, keyed by what they show (shop/cards.py): what differs with each showing (the
list's id and position, the heart) is filled in every time, and a changed product shows at once."""

import re

import pytest
from django.test import Client
from django.urls import reverse
from jinja2 import Template

from shop.models import Product

pytestmark = pytest.mark.django_db

LIST_URL = reverse("shop:product-list")


def card_of(html: str, product: Product) -> str:
    start = html.index(f'href="{product.get_absolute_url()}')
    return html[html.rindex("<li", 0, start) : html.index("</li>", start)]


def test_cards_are_rendered_once_and_then_served_from_the_cache(client: Client, monkeypatch):
    renders = []
    render = Template.render
    monkeypatch.setattr(Template, "render", lambda self, *a, **kw: renders.append(1) or render(self, *a, **kw))

    first = client.get(LIST_URL)
    rendered = len(renders)
    second = client.get(LIST_URL)

    shown = len(first.context["page"].object_list)
    assert rendered >= shown and len(renders) - rendered < shown  # the second page rendered no card again
    first_list, second_list = (response.context["list_id"] for response in (first, second))
    assert first_list != second_list
    for response, list_id in ((first, first_list), (second, second_list)):
        html = response.content.decode()
        for position, product in enumerate(response.context["page"].object_list, start=1):
            assert f'href="{product.get_absolute_url()}?lid={list_id}&amp;pos={position}"' in html
        assert "cardstandin" not in html


def test_a_price_or_stock_written_without_any_signal_shows_on_the_next_page(client: Client):
    product = client.get(LIST_URL).context["page"].object_list[0]
    Product.objects.filter(pk=product.pk).update(price=123456, list_price=None, in_stock=False)

    card = card_of(client.get(LIST_URL).content.decode(), product)

    assert '<span class="price__now">₹1,23,456</span>' in card
    assert "Out of stock" in card


def test_a_cached_card_carries_each_visitors_own_heart_and_token(client: Client):
    product = client.get(LIST_URL).context["page"].object_list[0]
    toggle = reverse("cart:wishlist-toggle", args=[product.pk])
    client.post(toggle, {"next": LIST_URL})
    other = Client(enforce_csrf_checks=True)

    mine = card_of(client.get(LIST_URL).content.decode(), product)
    theirs_page = other.get(LIST_URL, {"page": "1"})
    theirs = card_of(theirs_page.content.decode(), product)

    assert 'aria-pressed="true"' in mine and 'aria-pressed="false"' in theirs
    assert 'name="next" value="/products/?page=1"' in theirs
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', theirs)[1]
    response = other.post(toggle, {"csrfmiddlewaretoken": token, "next": LIST_URL})
    assert response.status_code == 302  # the token filled in is the visitor's own

"""The interaction log, on the storefront's own pages: what each page records, for whom, with which list."""

import io
import re
import uuid
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone

from events.middleware import COOKIE_NAME
from events.models import Event, Visitor
from events.services import link_visitor
from shop.models import Product
from shop.selectors import product_search
from tests.shelves import SHELVES

pytestmark = pytest.mark.django_db


def visitor(client: Client) -> uuid.UUID:
    return uuid.UUID(client.cookies[COOKIE_NAME].value)


def events(client: Client, kind: str | None = None) -> list[Event]:
    found = Event.objects.filter(visitor_id=visitor(client)).order_by("id")
    return list(found.filter(kind=kind) if kind else found)


def with_image() -> Product:
    return Product.objects.exclude(image="").order_by("pk").first()


def test_a_new_browser_gets_a_visitor_cookie_that_it_keeps(client):
    first = client.get("/")
    cookie = first.cookies[COOKIE_NAME]
    second = client.get("/")

    assert uuid.UUID(cookie.value)
    assert cookie["httponly"] and cookie["samesite"] == "Lax" and int(cookie["max-age"]) > 365 * 24 * 3600
    assert COOKIE_NAME not in second.cookies  # already set: not sent again
    assert {event.visitor_id for event in events(client)} == {visitor(client)}


def test_a_made_up_visitor_cookie_is_replaced(client):
    client.cookies[COOKIE_NAME] = "not-a-uuid"

    response = client.get("/")

    assert uuid.UUID(response.cookies[COOKIE_NAME].value)


def test_the_home_page_logs_each_shelf_as_a_list_and_its_links_carry_its_id(client):
    html = client.get("/").content.decode()

    # The newest shelves (a Trending shelf shows too when other tests' events have made something trend).
    shown = [event for event in events(client, Event.Kind.IMPRESSION) if event.strategy == "newest"]
    assert shown[0].placement == "home: New arrivals"
    assert all(len(event.product_ids) > 0 for event in shown)
    first = shown[0]
    assert f'/products/{first.product_ids[0]}/?lid={first.list_id}&amp;pos=1"' in html
    assert f'/products/{first.product_ids[1]}/?lid={first.list_id}&amp;pos=2"' in html
    assert len({event.list_id for event in shown}) == len(shown)


def test_a_click_from_a_list_logs_the_click_with_its_list_placement_and_position_then_the_view(client):
    client.get("/")
    shelf = events(client, Event.Kind.IMPRESSION)[0]
    product_id = shelf.product_ids[2]

    client.get(f"/products/{product_id}/?lid={shelf.list_id}&pos=3")

    # the page's own shelves log their impressions after these
    click, view = events(client, Event.Kind.CLICK)[-1], events(client, Event.Kind.VIEW)[-1]
    assert (click.kind, click.product_id, click.list_id, click.position) == ("click", product_id, shelf.list_id, 3)
    assert (click.placement, click.strategy) == (shelf.placement, shelf.strategy)
    assert (view.kind, view.product_id, view.list_id) == ("view", product_id, shelf.list_id)
    assert click.pk < view.pk


@pytest.mark.parametrize("query", ["lid=nothex&pos=3", "lid=ABC&pos=1", f"lid={'a' * 32}&pos=-1", "pos=2"])
def test_a_link_without_a_valid_list_id_logs_a_plain_view(client, query):
    product = with_image()

    response = client.get(f"/products/{product.pk}/?{query}")

    assert response.status_code == 200
    kinds = [event.kind for event in events(client) if event.product_id == product.pk]
    if query.startswith(f"lid={'a' * 32}"):
        click = events(client, Event.Kind.CLICK)[0]
        assert click.position is None  # a bad position is dropped, the valid list id kept
    else:
        assert kinds == ["view"]


def test_listing_and_search_log_their_list_and_the_search(client):
    client.get("/products/?gender=Men&sort=price")
    client.get("/search/?q=shirt")

    listing, search = events(client, Event.Kind.IMPRESSION)[:2]
    assert (listing.placement, listing.strategy) == ("listing", "price")
    assert (search.placement, search.strategy) == ("search", "relevance")
    assert set(listing.product_ids) <= set(Product.objects.filter(gender="Men").values_list("pk", flat=True))
    [searched] = events(client, Event.Kind.SEARCH)
    assert searched.query == "shirt" and searched.quantity == product_search("shirt").products.count()


def test_a_product_page_and_then_its_shelves_log_one_view(client, embedded_catalogue):
    product = with_image()

    client.get(f"/products/{product.pk}/")
    client.get(f"/products/{product.pk}/", headers=SHELVES)

    assert [event.product_id for event in events(client, Event.Kind.VIEW)] == [product.pk]
    assert {event.placement for event in events(client, Event.Kind.IMPRESSION)} >= {"product page: similar items"}


def test_the_similar_items_are_logged_as_a_list_of_the_visual_strategy(client, embedded_catalogue):
    product = with_image()

    html = client.get(f"/products/{product.pk}/", headers=SHELVES).content.decode()

    [shown] = [event for event in events(client, Event.Kind.IMPRESSION) if "similar" in event.placement]
    assert shown.placement == "product page: similar items"
    assert shown.strategy == f"visual: {embedded_catalogue.backbone}"
    assert product.pk not in shown.product_ids and len(shown.product_ids) > 0
    assert re.search(rf'href="/products/{shown.product_ids[0]}/\?lid={shown.list_id}&amp;pos=1"', html)


def test_known_bots_are_not_logged(client):
    client.get("/", HTTP_USER_AGENT="Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)")
    client.get(f"/products/{with_image().pk}/", HTTP_USER_AGENT="Mozilla/5.0 (compatible; bingbot/2.0)")

    assert events(client) == []
    client.get("/")
    assert events(client) != []  # the same browser, as a shopper


def test_nothing_is_logged_when_the_log_is_off(client):
    with override_settings(EVENTS_ENABLED=False):
        client.get("/")
        client.get(f"/products/{with_image().pk}/")

    assert events(client) == []


def test_logging_in_links_the_visitors_anonymous_events_to_the_account(client, django_user_model):
    client.get(f"/products/{with_image().pk}/")
    user = django_user_model.objects.create_user("shopper", password="a-long-password-1")

    linked = link_visitor(visitor(client), user)

    assert linked == len(events(client)) > 0
    assert {event.user_id for event in events(client)} == {user.pk}
    assert Visitor.objects.get(id=visitor(client)).user == user


def test_a_shopper_sees_and_deletes_their_data_and_only_theirs(client):
    other = Client()
    other.get("/")
    client.get("/")
    client.get(f"/products/{with_image().pk}/")
    mine = len(events(client))

    page = client.get(reverse("events:your-data")).content.decode()
    response = client.post(reverse("events:your-data"), follow=True)

    assert f"<strong>{mine}</strong> recorded interaction" in page
    assert f"Deleted: {mine} recorded interactions." in response.content.decode()
    assert Event.objects.filter(visitor_id=visitor(client)).count() == 0
    assert Event.objects.filter(visitor_id=visitor(other)).count() > 0


def test_events_older_than_the_retention_period_are_pruned(client):
    client.get("/")
    old = events(client)[0]
    Event.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=31))
    Event.objects.exclude(visitor_id=visitor(client)).update(created_at=timezone.now())  # another test's leftovers
    kept = Event.objects.count() - 1

    with override_settings(EVENTS_RETENTION_DAYS=30):
        call_command("prune_events", stdout=io.StringIO())

    assert Event.objects.count() == kept
    assert not Event.objects.filter(pk=old.pk).exists()


def test_the_daily_schedule_runs_the_pruning_task(client, settings):
    from config.celery import app

    app.loader.import_default_modules()  # what a worker does when it starts: autodiscover each app's tasks
    scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert scheduled <= set(app.tasks), "a scheduled task that no worker knows"
    client.get("/")
    old = events(client)[0]
    Event.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=400))

    app.tasks[settings.CELERY_BEAT_SCHEDULE["prune-events"]["task"]].apply()

    assert not Event.objects.filter(pk=old.pk).exists()

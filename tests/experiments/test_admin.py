"""A shop owner sets up, starts and stops an experiment in the admin and reads its results there and in the API."""

import uuid

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from events.models import Event
from experiments.models import Experiment, Exposure

from .conftest import TRENDING, running

ADD = reverse("admin:experiments_experiment_add")
CHANGELIST = reverse("admin:experiments_experiment_changelist")


@pytest.fixture
def owner(db) -> Client:
    user = get_user_model().objects.create_superuser("owner", "owner@example.com", "a-long-password-1")
    client = Client()
    client.force_login(user)
    return client


def form(name: str, placement: str, *variants: tuple[str, str, str, str, bool]) -> dict[str, str]:
    """The add form's fields; ``variants`` are (key, strategy, parameters as JSON, weight, is control)."""
    data = {
        "name": name,
        "placement": placement,
        "primary_metric": "ctr",
        "guardrails": ["revenue"],
        "variants-TOTAL_FORMS": str(len(variants)),
        "variants-INITIAL_FORMS": "0",
        "variants-MIN_NUM_FORMS": "0",
        "variants-MAX_NUM_FORMS": "1000",
    }
    for index, (key, strategy, parameters, weight, control) in enumerate(variants):
        data |= {
            f"variants-{index}-key": key,
            f"variants-{index}-strategy": strategy,
            f"variants-{index}-parameters": parameters,
            f"variants-{index}-weight": weight,
        }
        if control:
            data[f"variants-{index}-is_control"] = "on"
    return data


def start(owner: Client, *experiments: Experiment):
    return owner.post(
        CHANGELIST, {"action": "start", "_selected_action": [str(e.pk) for e in experiments]}, follow=True
    )


def test_the_owner_creates_and_starts_an_experiment_and_only_one_runs_per_placement(owner: Client):
    response = owner.post(
        ADD,
        form(
            "Longer trending shelf",
            TRENDING,
            ("control", "trending", "{}", "1", True),
            ("longer", "trending", '{"limit": 12}', "1", False),
        ),
    )
    assert response.status_code == 302, response.content.decode()[-3000:]
    first = Experiment.objects.get(name="Longer trending shelf")
    assert first.guardrails == ["revenue"] and first.variants.count() == 2

    started = start(owner, first)
    first.refresh_from_db()
    assert first.status == "running" and first.started_at is not None
    assert "Longer trending shelf started." in started.content.decode()

    owner.post(ADD, form("Another", TRENDING, ("a", "trending", "{}", "1", True), ("b", "trending", "{}", "1", False)))
    second = Experiment.objects.get(name="Another")
    refused = start(owner, second).content.decode()
    second.refresh_from_db()
    assert second.status == "draft"
    assert "Longer trending shelf is already running on &#x27;home: Trending&#x27;: stop it before" in refused

    change = owner.get(reverse("admin:experiments_experiment_change", args=[first.pk])).content.decode()
    assert 'name="variants-0-weight"' not in change  # the variants are fixed while it runs


@pytest.mark.parametrize(
    ("variants", "message"),
    [
        ((("a", "also_bought", "{}", "1", True), ("b", "trending", "{}", "1", False)), "cannot fill"),
        ((("a", "trending", "{}", "1", True), ("b", "trending", "{}", "1", True)), "Exactly one variant"),
        ((("a", "trending", "{}", "1", True),), "at least two variants"),
        ((("a", "trending", '{"colour": "red"}', "1", True), ("b", "trending", "{}", "1", False)), "unknown parameter"),
        ((("a", "trending", '{"limit": 500}', "1", True), ("b", "trending", "{}", "1", False)), "limit must be"),
        ((("a", "trending", "{}", "0", True), ("b", "trending", "{}", "1", False)), "greater than or equal to 1"),
        ((("a", "trending", '{"limit": true}', "1", True), ("b", "trending", "{}", "1", False)), "limit must be"),
    ],
)
def test_variants_that_cannot_run_are_refused_with_a_reason(owner: Client, variants, message: str):
    response = owner.post(ADD, form("Broken", TRENDING, *variants))

    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Experiment.objects.filter(name="Broken").exists()


def test_stopping_keeps_the_data_and_the_results_page_shows_it(owner: Client):
    experiment = running()
    for number in range(40):
        visitor, list_id = uuid.uuid4(), uuid.uuid4().hex
        variant = experiment.variants.all()[number % 2]
        Exposure.objects.create(
            experiment=experiment, variant=variant, unit=visitor.hex, visitor_id=visitor, exposed_at=timezone.now()
        )
        Event.objects.create(
            kind="impression", visitor_id=visitor, list_id=list_id, placement=TRENDING, created_at=timezone.now()
        )
        if variant.key == "b" or number % 8 == 0:
            Event.objects.create(kind="click", visitor_id=visitor, list_id=list_id, created_at=timezone.now())
    owner.post(CHANGELIST, {"action": "stop", "_selected_action": [str(experiment.pk)]})
    experiment.refresh_from_db()

    page = owner.get(reverse("admin:experiments_experiment_results", args=[experiment.pk])).content.decode()

    assert experiment.status == "stopped" and experiment.exposures.count() == 40
    assert "Click-through rate (primary metric)" in page
    assert "significantly better" in page and 'id="lift-chart"' in page and "<polyline" in page
    assert "Sample-ratio mismatch" not in page


def test_the_results_in_the_api_are_for_staff_only(owner: Client, api):
    experiment = running()
    url = reverse("api:experiment-results", args=[experiment.pk])

    assert api.get(url).status_code == 403
    found = owner.get(url).json()
    assert found["experiment"]["placement"] == TRENDING and found["exposed"] == 0
    assert [variant["key"] for variant in found["variants"]] == ["control", "b"]
    assert found["sample_ratio"] == {"p_value": 1.0, "mismatch": False}
    assert owner.get(reverse("api:experiments")).json()[0]["variants"][1]["parameters"] == {"limit": 6}
    assert owner.get(reverse("api:experiment-results", args=[experiment.pk + 1000])).status_code == 404


def test_similar_items_variants_take_their_own_parameters(owner: Client):
    placement = "product page: similar items"
    control = ("a", "visual", '{"metadata_ranking": false}', "1", True)

    wrong = owner.post(
        ADD, form("Ranking", placement, control, ("b", "visual", '{"metadata_ranking": "yes"}', "1", False))
    )
    right = owner.post(
        ADD, form("Ranking", placement, control, ("b", "visual", '{"metadata_ranking": true}', "1", False))
    )

    assert "metadata_ranking must be true or false" in wrong.content.decode()
    assert right.status_code == 302
    assert sorted(Experiment.objects.get(name="Ranking").variants.values_list("key", flat=True)) == ["a", "b"]

import pytest

from events.models import Event, ProductPopularity


@pytest.fixture(autouse=True)
def empty_log(db) -> None:
    """Each test writes the log it ranks: none of what servers started by other tests committed (rolled back)."""
    Event.objects.all().delete()
    ProductPopularity.objects.all().delete()

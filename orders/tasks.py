from celery import shared_task

from . import services


@shared_task
def send_order_confirmation(order_id: int, order_url: str = "") -> None:
    """The confirmation e-mail, sent by a worker once the order is committed (in process without a broker)."""
    services.send_confirmation(order_id, order_url)

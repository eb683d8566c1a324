from celery import shared_task

from . import training


@shared_task
def train_recommenders() -> dict[str, int]:
    """The scheduled training (celery beat, every ``PERSONALIZATION_TRAINING_HOURS``)."""
    return {run.name: run.pk for run in training.train()}

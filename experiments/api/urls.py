from django.urls import path

from .views import ExperimentResultsApi, ExperimentsApi

urlpatterns = [
    path("experiments/", ExperimentsApi.as_view(), name="experiments"),
    path("experiments/<int:pk>/results/", ExperimentResultsApi.as_view(), name="experiment-results"),
]

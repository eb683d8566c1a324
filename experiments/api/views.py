from drf_spectacular.utils import extend_schema
from rest_framework.generics import ListAPIView, get_object_or_404
from rest_framework.permissions import IsAdminUser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from ..models import Experiment
from .serializers import ExperimentSerializer, ResultsSerializer


@extend_schema(summary="The A/B tests, newest first (staff only)")
class ExperimentsApi(ListAPIView):
    permission_classes = [IsAdminUser]
    serializer_class = ExperimentSerializer
    queryset = Experiment.objects.prefetch_related("variants")
    pagination_class = None


class ExperimentResultsApi(APIView):
    permission_classes = [IsAdminUser]

    @extend_schema(
        summary="An A/B test's results (staff only)",
        description="What the admin's results page shows: per variant, the exposed visitors, the metrics and their "
        "lift against the control with a 95% interval and a p-value, the sample-ratio check, the visitors needed, "
        "and the primary metric's cumulative lift over time.",
        responses={200: ResultsSerializer},
    )
    def get(self, request: Request, pk: int) -> Response:
        from ..results import experiment_results  # statsmodels: only for those who ask for results

        experiment = get_object_or_404(Experiment.objects.all(), pk=pk)
        return Response(ResultsSerializer(experiment_results(experiment)).data)

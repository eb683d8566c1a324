from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from ..services import record_event
from .serializers import EventSerializer, event_fields


class EventsApi(APIView):
    # A visitor is known by the first-party cookie, as on the storefront's pages; nothing here needs an account.
    authentication_classes = []
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "events"

    @extend_schema(
        summary="Log what a shopper did in a headless front end",
        description="One event, or a list of them (all or none are logged). The visitor is the browser's "
        "first-party cookie. Cart changes, wishlists, purchases and photo searches are logged by the API calls "
        "that make them.",
        request=EventSerializer(many=True),
        responses={
            202: OpenApiResponse(description='Logged: `{"recorded": n}`.'),
            400: OpenApiResponse(description="Invalid events, e.g. an unknown product."),
        },
    )
    def post(self, request: Request) -> Response:
        many = isinstance(request.data, list)
        events = EventSerializer(data=request.data, many=many)
        events.is_valid(raise_exception=True)
        validated = events.validated_data if many else [events.validated_data]
        for data in validated:
            kind, fields = event_fields(data)
            record_event(request, kind, **fields)
        return Response({"recorded": len(validated)}, status=status.HTTP_202_ACCEPTED)

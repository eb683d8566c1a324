"""Responses the API's views share, as the OpenAPI schema describes them."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse

from .serializers import ErrorSerializer

INVALID_PARAMETERS = OpenApiResponse(OpenApiTypes.OBJECT, description="Each invalid parameter with its errors.")
NO_SUCH_PRODUCT = OpenApiResponse(ErrorSerializer, description="No product has this id.")

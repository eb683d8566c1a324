import uuid

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.exceptions import NotFound
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from recommendations.photo_search.photos import PhotoError
from recommendations.photo_search.services import PhotoSearchUnavailable, search_photo
from recommendations.signals import photo_searched, recommendations_shown
from recommendations.templatetags.recommendations_tags import SIMILAR_ITEMS_PLACEMENT
from recommendations.vectors.ranking import SimilarItem
from recommendations.vectors.selectors import catalogue_analysis, serving_space, similar_products
from shop.api.schema import INVALID_PARAMETERS, NO_SUCH_PRODUCT
from shop.api.serializers import ErrorSerializer
from shop.models import Product
from shop.selectors import product_detail

from .serializers import PhotoSearchSerializer, SimilarParamsSerializer, SimilarResultsSerializer

NO_IMAGE = "This product has no image, so nothing can look like it."
NOT_ANALYSED = "Similar items appear as soon as the catalogue's photos have been analysed ({percent}% done)."


class SimilarProductsApi(APIView):
    @extend_schema(
        summary="The products that look most like a product",
        description="Best first, one result per group of duplicate images, never the product itself. "
        "The results are empty, with a `detail` saying why, when the product has no image or no photos have "
        "been analysed yet. A product whose photo is still being analysed has empty results without a `detail`.",
        parameters=[SimilarParamsSerializer],
        responses={
            200: SimilarResultsSerializer,
            400: INVALID_PARAMETERS,
            404: NO_SUCH_PRODUCT,
        },
    )
    def get(self, request: Request, pk: int) -> Response:
        product = product_detail(pk)
        if product is None:
            raise NotFound("No such product.")
        params = SimilarParamsSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        if not product.image:
            return _results([], request, detail=NO_IMAGE)
        space = serving_space()
        if space is None:
            analysis = catalogue_analysis()
            detail = NOT_ANALYSED.format(percent=analysis.percent)
            return _results([], request, detail=detail, analysed_share=analysis.share)
        items = similar_products(
            product, k=params.validated_data.get("k"), options=params.validated_data["options"], space=space
        )
        list_id = uuid.uuid4().hex
        recommendations_shown.send(
            sender=Product,
            request=request,
            list_id=list_id,
            placement=f"api: {SIMILAR_ITEMS_PLACEMENT}",
            strategy=f"visual: {space.backbone}",
            product_ids=[item.product.pk for item in items],
        )
        return _results(items, request, list_id=list_id)


class PhotoSearchApi(APIView):
    parser_classes = [MultiPartParser]
    # Nothing here depends on who asks: without authentication there is no session, so no CSRF token to send.
    authentication_classes = []
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "photo-search"

    @extend_schema(
        summary="Search the catalogue with a photo",
        description="The products that look most like the photo (or the crop of it), best first. "
        "While the catalogue's photos are being analysed the results are empty, with a `detail` and the "
        "`analysed_share`. Throttled per client (`API_PHOTO_SEARCH_RATE`).",
        request={"multipart/form-data": PhotoSearchSerializer},
        responses={
            200: SimilarResultsSerializer,
            400: OpenApiResponse(
                OpenApiTypes.OBJECT, description="Invalid fields, or a photo that cannot be read (`detail`)."
            ),
            413: OpenApiResponse(ErrorSerializer, description="The photo is too large."),
            415: OpenApiResponse(ErrorSerializer, description="The file is not an image of an accepted format."),
            429: OpenApiResponse(ErrorSerializer, description="Too many searches; retry after `Retry-After` seconds."),
        },
    )
    def post(self, request: Request) -> Response:
        params = PhotoSearchSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        try:
            items = search_photo(params.photo_search())
        except PhotoError as error:
            body = {"crop": [error.message]} if error.field == "crop" else {"detail": error.message}
            return Response(body, status=error.status)
        except PhotoSearchUnavailable as error:
            return _results([], request, detail=str(error), analysed_share=catalogue_analysis().share)
        list_id = uuid.uuid4().hex
        photo_searched.send(
            sender=Product, request=request, list_id=list_id, product_ids=[item.product.pk for item in items]
        )
        return _results(items, request, list_id=list_id)


def _results(
    items: list[SimilarItem],
    request: Request,
    *,
    detail: str | None = None,
    analysed_share: float | None = None,
    list_id: str | None = None,
) -> Response:
    results = {"results": items, "detail": detail, "analysed_share": analysed_share, "list_id": list_id}
    data = SimilarResultsSerializer(results, context={"request": request}).data
    return Response({key: value for key, value in data.items() if value is not None})

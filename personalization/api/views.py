from dataclasses import replace
from typing import Any, ClassVar

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.views import APIView

from shop.api.schema import INVALID_PARAMETERS, NO_SUCH_PRODUCT
from shop.api.serializers import ErrorSerializer
from shop.models import Product

from ..selectors import FOR_YOU_STRATEGIES, is_returning, request_context
from ..strategies.base import Context
from .lists import PRODUCT, ShownList, UnknownStrategy, chosen, logged, registered, strategy_info
from .serializers import (
    ListParamsSerializer,
    RecommendedListSerializer,
    SegmentParamsSerializer,
    StrategiesSerializer,
    StrategyParamsSerializer,
)

NO_SUCH_STRATEGY = OpenApiResponse(ErrorSerializer, description="No strategy is registered under this name.")
LIST_RESPONSES = {200: RecommendedListSerializer, 400: INVALID_PARAMETERS}
LIST_DESCRIPTION = (
    "Products chosen for the visitor (the first-party cookie; a signed-in shopper's other browsers count too), "
    "each with its reason. Never what is in the bag, just bought or the page's product; in stock only; the page's "
    "gender and unisex; a few of one article type at most. The list is logged as shown under its `list_id`."
)


class StrategiesApi(APIView):
    @extend_schema(
        operation_id="recommendations_strategies",
        summary="The recommendation strategies",
        description="Every strategy registered (`PERSONALIZATION_STRATEGIES`), with what it recommends from.",
        responses={200: StrategiesSerializer},
    )
    def get(self, request: Request) -> Response:
        results = [
            {**vars(info), "url": reverse("api:recommendations-strategy", args=[info.name], request=request)}
            for info in registered()
        ]
        return Response(StrategiesSerializer({"results": results}).data)


class RecommendationsApi(APIView):
    """A list from ``names`` (a fallback chain), logged under the placement ``api: <names[0]>``."""

    names: ClassVar[tuple[str, ...]] = ()
    overall_fallback: ClassVar[bool] = False
    params: ClassVar[type[ListParamsSerializer]] = ListParamsSerializer

    def context(self, request: Request, params: dict[str, Any], product: Product | None = None) -> Context:
        wanted = request_context(request, product=product, gender=params.get("gender"), limit=params.get("limit"))
        return replace(wanted, category=params.get("category") or None)

    def answer(self, request: Request, context: Context, names: tuple[str, ...] | None = None) -> Response:
        names = names or self.names
        try:
            shown = chosen(names, context, overall_fallback=self.overall_fallback)
        except UnknownStrategy as error:
            raise NotFound(str(error)) from error
        return _response(logged(request, shown, names[0]), request)

    def valid_params(self, request: Request) -> dict[str, Any]:
        params = self.params(data=request.query_params)
        params.is_valid(raise_exception=True)
        return dict(params.validated_data)

    @extend_schema(parameters=[ListParamsSerializer], responses=LIST_RESPONSES)
    def get(self, request: Request) -> Response:
        return self.answer(request, self.context(request, self.valid_params(request)))


@extend_schema_view(
    get=extend_schema(
        summary="For you",
        description=f"{LIST_DESCRIPTION} The `for_you` strategy (else `for_you_content`, as on the home page); "
        "while neither has anything for this visitor, trending in their segment, then overall.",
        parameters=[SegmentParamsSerializer],
    )
)
class ForYouApi(RecommendationsApi):
    names = (*FOR_YOU_STRATEGIES, "trending")
    overall_fallback = True
    params = SegmentParamsSerializer


@extend_schema_view(
    get=extend_schema(
        summary="Trending",
        description=f"{LIST_DESCRIPTION} Views, cart adds and purchases, weighted and halved every half-life; in "
        "the segment (`gender`, `category`), overall when the gender has nothing trending yet.",
        parameters=[SegmentParamsSerializer],
    )
)
class TrendingApi(RecommendationsApi):
    names = ("trending",)
    overall_fallback = True
    params = SegmentParamsSerializer


@extend_schema_view(
    get=extend_schema(
        summary="Recently viewed",
        description=f"{LIST_DESCRIPTION} The visitor's own views, latest first, of any gender.",
    )
)
class RecentlyViewedApi(RecommendationsApi):
    names = ("recently_viewed",)

    def context(self, request: Request, params: dict[str, Any], product: Product | None = None) -> Context:
        context = replace(super().context(request, params, product), gender=None)
        # A browser without the cookie yet has viewed nothing: no need to look.
        return context if is_returning(request) else replace(context, visitor_id=None)


@extend_schema_view(
    get=extend_schema(
        summary="Complete your order",
        description=f"{LIST_DESCRIPTION} Products that go with what is in the visitor's bag (`complete_order`).",
    )
)
class CartCompleteApi(RecommendationsApi):
    names = ("complete_order",)


class ProductRecommendationsApi(RecommendationsApi):
    """A product page's list: ``pk`` is its product."""

    @extend_schema(parameters=[ListParamsSerializer], responses=LIST_RESPONSES | {404: NO_SUCH_PRODUCT})
    def get(self, request: Request, pk: int) -> Response:
        params = self.valid_params(request)
        return self.answer(request, self.context(request, params, _product(pk)))


@extend_schema_view(get=extend_schema(summary="Shoppers who bought this also bought", description=LIST_DESCRIPTION))
class AlsoBoughtApi(ProductRecommendationsApi):
    names = ("also_bought",)


@extend_schema_view(get=extend_schema(summary="Shoppers who viewed this also viewed", description=LIST_DESCRIPTION))
class AlsoViewedApi(ProductRecommendationsApi):
    names = ("also_viewed",)


@extend_schema_view(
    get=extend_schema(
        summary="Frequently bought together",
        description=f"{LIST_DESCRIPTION} Products of other kinds bought with this one.",
    )
)
class BoughtTogetherApi(ProductRecommendationsApi):
    names = ("bought_together",)


class StrategyRecommendationsApi(RecommendationsApi):
    params = StrategyParamsSerializer

    @extend_schema(
        operation_id="recommendations_by_name",
        summary="A list by any registered strategy",
        description=f"{LIST_DESCRIPTION} `name` is the strategy's registered name (`-` may stand for `_`); GET "
        "/api/recommendations/ lists them. No fallback: an empty list when the strategy has nothing.",
        parameters=[
            StrategyParamsSerializer,
            OpenApiParameter("name", OpenApiTypes.STR, OpenApiParameter.PATH, description="e.g. `also_bought`."),
        ],
        responses=LIST_RESPONSES | {404: NO_SUCH_STRATEGY},
    )
    def get(self, request: Request, name: str) -> Response:
        name = name.replace("-", "_")
        try:
            needs = strategy_info(name).needs
        except UnknownStrategy as error:
            raise NotFound(str(error)) from error
        params = self.valid_params(request)
        product = _product(params["product"]) if "product" in params else None
        if PRODUCT in needs and product is None:
            raise ValidationError({"product": [f"The {name} strategy recommends from a product: send ?product=<id>."]})
        return self.answer(request, self.context(request, params, product), (name,))


def _product(pk: int) -> Product:
    product = Product.objects.defer("search_vector").filter(pk=pk).first()
    if product is None:
        raise NotFound("No such product.")
    return product


def _response(shown: ShownList, request: Request) -> Response:
    return Response(RecommendedListSerializer(shown, context={"request": request}).data)

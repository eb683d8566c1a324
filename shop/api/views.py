from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework.exceptions import NotFound
from rest_framework.generics import ListAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from shop import selectors
from shop.models import Product

from .pagination import ProductPagination
from .schema import INVALID_PARAMETERS, NO_SUCH_PRODUCT
from .serializers import ProductCardSerializer, ProductListParamsSerializer, ProductSerializer


class ProductListApi(ListAPIView):
    serializer_class = ProductCardSerializer
    pagination_class = ProductPagination

    @extend_schema(
        summary="List, filter and search products",
        parameters=[ProductListParamsSerializer],
        responses={200: ProductCardSerializer(many=True), 400: INVALID_PARAMETERS},
    )
    def get(self, request: Request) -> Response:
        return self.list(request)

    def get_queryset(self) -> QuerySet[Product]:
        params = ProductListParamsSerializer(data=self.request.query_params)
        params.is_valid(raise_exception=True)
        query = params.validated_data["q"]
        return selectors.product_list(
            filters=params.validated_data["filters"],
            sort=params.validated_data["sort"],
            search=selectors.product_search(query) if query else None,
        )


class ProductDetailApi(APIView):
    @extend_schema(
        summary="A product with all its attributes",
        responses={200: ProductSerializer, 404: NO_SUCH_PRODUCT},
    )
    def get(self, request: Request, pk: int) -> Response:
        product = selectors.product_detail(pk)
        if product is None:
            raise NotFound("No such product.")
        return Response(ProductSerializer(product, context={"request": request}).data)

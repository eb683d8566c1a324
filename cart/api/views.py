from django.utils.decorators import method_decorator
from django.views.decorators.csrf import ensure_csrf_cookie
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from shop.api.serializers import ErrorSerializer, ProductCardSerializer

from .. import selectors, services
from ..services import CartError
from ..sessions import current_cart, current_wishlist
from .serializers import AddLineSerializer, BagSerializer, QuantitySerializer, WishlistAddSerializer

INVALID = OpenApiResponse(
    OpenApiTypes.OBJECT,
    description="The change cannot be made: each invalid field with its messages (e.g. an unknown size, a sold-out "
    "size, a product without a price, a quantity below 1 or above the stock). Nothing was changed.",
)
NOT_LOGGED_IN = OpenApiResponse(
    ErrorSerializer, description="Not logged in, or (with a session) the CSRF token is missing or wrong."
)
NOT_IN_BAG = OpenApiResponse(ErrorSerializer, description="This size is not in the bag.")


def error_response(error: CartError) -> Response:
    """A ``CartError`` as DRF answers invalid input: the field and its message, or ``detail``."""
    body = {error.field: [error.message]} if error.field and error.status == 400 else {"detail": error.message}
    return Response(body, status=error.status)


class CommerceApiView(APIView):
    """The logged-in shopper's own data. With session authentication every change needs the CSRF token."""

    permission_classes = [IsAuthenticated]

    def bag(self, request: Request, status: int = 200) -> Response:
        summary = selectors.bag_summary(current_cart(request))
        return Response(BagSerializer(summary, context={"request": request}).data, status=status)


class CartApi(CommerceApiView):
    @extend_schema(
        summary="The shopper's bag",
        description="Also sets the `csrftoken` cookie, whose value a session-authenticated client sends back in the "
        "`X-CSRFToken` header of every change.",
        responses={200: BagSerializer, 403: NOT_LOGGED_IN},
    )
    @method_decorator(ensure_csrf_cookie)
    def get(self, request: Request) -> Response:
        return self.bag(request)


class CartLinesApi(CommerceApiView):
    @extend_schema(
        summary="Put a size into the bag",
        description="Adds `quantity` units to the size's line (creating it). The stock and the price are checked.",
        request=AddLineSerializer,
        responses={201: BagSerializer, 400: INVALID, 403: NOT_LOGGED_IN},
    )
    def post(self, request: Request) -> Response:
        params = AddLineSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        data = params.validated_data
        try:
            services.add_to_cart(
                current_cart(request, create=True),
                data["sku"],
                data["quantity"],
                request=request._request,
                list_id=data["list_id"] and data["list_id"].lower(),
            )
        except CartError as error:
            return error_response(error)
        return self.bag(request, status=201)


class CartLineApi(CommerceApiView):
    @extend_schema(
        summary="Change the quantity of a size in the bag",
        request=QuantitySerializer,
        responses={200: BagSerializer, 400: INVALID, 403: NOT_LOGGED_IN, 404: NOT_IN_BAG},
    )
    def patch(self, request: Request, sku_id: int) -> Response:
        params = QuantitySerializer(data=request.data)
        params.is_valid(raise_exception=True)
        try:
            services.set_quantity(_cart(request), sku_id, params.validated_data["quantity"], request=request._request)
        except CartError as error:
            return error_response(error)
        return self.bag(request)

    @extend_schema(
        summary="Take a size out of the bag",
        request=None,
        responses={200: BagSerializer, 403: NOT_LOGGED_IN, 404: NOT_IN_BAG},
    )
    def delete(self, request: Request, sku_id: int) -> Response:
        try:
            services.remove_line(_cart(request), sku_id, request=request._request)
        except CartError as error:
            return error_response(error)
        return self.bag(request)


class WishlistApi(CommerceApiView):
    @extend_schema(
        summary="The shopper's wishlist",
        description="Its products, the last added first.",
        responses={200: ProductCardSerializer(many=True), 403: NOT_LOGGED_IN},
    )
    def get(self, request: Request) -> Response:
        products = selectors.wishlist_products(current_wishlist(request))
        return Response(ProductCardSerializer(products, many=True, context={"request": request}).data)

    @extend_schema(
        summary="Put a product on the wishlist",
        request=WishlistAddSerializer,
        responses={
            201: ProductCardSerializer(many=True),
            200: OpenApiResponse(ProductCardSerializer(many=True), description="It was on the wishlist already."),
            400: INVALID,
            403: NOT_LOGGED_IN,
            404: OpenApiResponse(ErrorSerializer, description="No product has this id."),
        },
    )
    def post(self, request: Request) -> Response:
        params = WishlistAddSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        try:
            added = services.add_to_wishlist(
                current_wishlist(request, create=True), params.validated_data["product"], request=request._request
            )
        except CartError as error:
            return error_response(error)
        response = self.get(request)
        response.status_code = 201 if added else 200
        return response


class WishlistItemApi(CommerceApiView):
    @extend_schema(
        summary="Take a product off the wishlist",
        request=None,
        responses={
            204: None,
            403: NOT_LOGGED_IN,
            404: OpenApiResponse(ErrorSerializer, description="The product is not on the wishlist."),
        },
    )
    def delete(self, request: Request, product_id: int) -> Response:
        wishlist = current_wishlist(request)
        try:
            removed = wishlist is not None and services.remove_from_wishlist(
                wishlist, product_id, request=request._request
            )
        except CartError as error:
            return error_response(error)
        if not removed:
            return Response({"detail": "This product is not on the wishlist."}, status=404)
        return Response(status=204)


def _cart(request: Request):
    cart = current_cart(request)
    if cart is None:
        raise CartError(services.NOT_IN_BAG, status=404)
    return cart

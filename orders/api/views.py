from dataclasses import asdict

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.generics import ListAPIView
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import services as accounts_services
from accounts.models import Address
from accounts.selectors import address_of, addresses_of
from cart.api.views import NOT_LOGGED_IN
from cart.selectors import bag_summary
from cart.sessions import current_cart
from shop.api.pagination import ProductPagination
from shop.api.serializers import ErrorSerializer

from .. import selectors, services
from ..delivery import delivery_methods
from ..payments import payment_methods
from ..services import CheckoutError, ShippingAddress
from .serializers import CheckoutOptionsSerializer, CheckoutSerializer, OrderSerializer


class CheckoutApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        summary="What checkout offers for the shopper's bag",
        description="The bag, the saved addresses, the delivery methods with their prices, and the payment methods "
        "with whether each is available for this bag (cash on delivery: when every product may be paid on delivery).",
        responses={200: CheckoutOptionsSerializer, 403: NOT_LOGGED_IN},
    )
    def get(self, request: Request) -> Response:
        bag = bag_summary(current_cart(request))
        payments = []
        for method in payment_methods().values():
            availability = method.availability(bag)
            payments.append({"code": method.code, "label": method.label, "description": method.description,
                             "available": availability.available, "reason": availability.reason})  # fmt: skip
        options = {
            "bag": bag,
            "addresses": [
                {"id": address.pk, "is_default": address.is_default, **asdict(ShippingAddress.from_address(address))}
                for address in addresses_of(request.user)
            ],
            "delivery_methods": [asdict(method) for method in delivery_methods().values()],
            "payment_methods": payments,
        }
        return Response(CheckoutOptionsSerializer(options, context={"request": request}).data)

    @extend_schema(
        summary="Place an order of everything in the bag",
        description="In one transaction that reserves the stock: when another order took the last units first, "
        "nothing is placed and the answer (409) says which size. The bag is emptied, and the confirmation e-mail sent.",
        request=CheckoutSerializer,
        responses={
            201: OrderSerializer,
            400: OpenApiResponse(
                OpenApiTypes.OBJECT,
                description="Invalid fields (e.g. an unknown delivery or payment method, a payment method not "
                "available for the bag) or an empty bag (`detail`). Nothing was placed.",
            ),
            403: NOT_LOGGED_IN,
            409: OpenApiResponse(
                ErrorSerializer,
                description="The stock or the bag changed: a size sold out or has too few units left, or the total is "
                "not `expected_total` any more. Nothing was placed; the bag is kept.",
            ),
        },
    )
    def post(self, request: Request) -> Response:
        params = CheckoutSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        data = params.validated_data
        if "address_id" in data:
            saved = address_of(request.user, data["address_id"])
            if saved is None:
                return Response({"address_id": ["You have no saved address with this id."]}, status=400)
            address = ShippingAddress.from_address(saved)
        else:
            address = ShippingAddress(**data["address"])
        try:
            order = services.place_order(
                user=request.user,
                cart=current_cart(request),
                address=address,
                delivery=data["delivery"],
                payment=data["payment"],
                expected_total=data.get("expected_total"),
                request=request._request,
            )
        except CheckoutError as error:
            body = {error.field: [error.message]} if error.field else {"detail": error.message}
            return Response(body, status=error.status)
        if "address" in data and data["save_address"]:
            accounts_services.save_address(Address(user=request.user, **asdict(address)))
        order = selectors.order_of(request.user, order.number)
        return Response(OrderSerializer(order, context={"request": request}).data, status=201)


class OrderListApi(ListAPIView):
    permission_classes = [IsAuthenticated]
    serializer_class = OrderSerializer
    pagination_class = ProductPagination

    @extend_schema(summary="The shopper's orders, the newest first", responses={200: OrderSerializer(many=True)})
    def get(self, request: Request) -> Response:
        return self.list(request)

    def get_queryset(self):
        return selectors.orders_of(self.request.user).prefetch_related("payments")


class OrderDetailApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        summary="One of the shopper's orders",
        responses={
            200: OrderSerializer,
            403: NOT_LOGGED_IN,
            404: OpenApiResponse(ErrorSerializer, description="The shopper has no order with this number."),
        },
    )
    def get(self, request: Request, number: str) -> Response:
        order = selectors.order_of(request.user, number)
        if order is None:
            return Response({"detail": "You have no order with this number."}, status=404)
        return Response(OrderSerializer(order, context={"request": request}).data)

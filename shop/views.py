from django.http import HttpRequest, HttpResponse


def home(request: HttpRequest) -> HttpResponse:
    return HttpResponse("home")


def product_list(request: HttpRequest) -> HttpResponse:
    return HttpResponse("list")


def product_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return HttpResponse("detail")


def search(request: HttpRequest) -> HttpResponse:
    return HttpResponse("search")

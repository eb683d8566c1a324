from django.conf import settings
from rest_framework.pagination import PageNumberPagination

MAX_PAGE_SIZE = 100


class ProductPagination(PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE

    @property
    def page_size(self) -> int:
        # Read on every request rather than at import, like the listing page does.
        return settings.SHOP_PAGE_SIZE

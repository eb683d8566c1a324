import uuid

from csp.decorators import csp_update
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from shop.models import Product

from .photo_search.forms import PhotoSearchForm
from .photo_search.photos import PhotoError
from .photo_search.services import PhotoSearchUnavailable, photo_space, search_photo
from .photo_search.throttling import seconds_to_wait
from .signals import photo_searched
from .vectors.ranking import SimilarItem

# Six rows of the four-across grid beside the photo on desktops.
PHOTO_SEARCH_RESULTS = 24
# The script previews the chosen photo from a blob: URL, which the site's Content-Security-Policy allows here only
# (in the enforced policy or the report-only one, whichever the settings use).
PREVIEW_IMAGES = {"img-src": ["blob:"]}


@csp_update(PREVIEW_IMAGES)
@csp_update(PREVIEW_IMAGES, REPORT_ONLY=True)
@require_http_methods(["GET", "POST"])
def photo_search(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        return _photo_search_page(request, PhotoSearchForm(), unavailable=_unavailable())
    if wait := seconds_to_wait(request):
        response = _photo_search_page(request, PhotoSearchForm(), retry_after=wait, status=429)
        response["Retry-After"] = str(wait)
        return response
    form = PhotoSearchForm(request.POST, request.FILES)
    if not form.is_valid():
        return _photo_search_page(request, form, status=400)
    try:
        results = search_photo(form.photo_search(k=PHOTO_SEARCH_RESULTS))
    except PhotoError as error:
        form.add_error("image" if error.field == "image" else None, error.message)
        return _photo_search_page(request, form, status=error.status)
    except PhotoSearchUnavailable as error:
        # The catalogue is still being analysed: a state of the shop, not an error of the shopper's.
        return _photo_search_page(request, form, unavailable=str(error))
    list_id = uuid.uuid4().hex
    photo_searched.send(
        sender=Product, request=request, list_id=list_id, product_ids=[item.product.pk for item in results]
    )
    return _photo_search_page(request, form, results=results, list_id=list_id)


def _unavailable() -> str:
    try:
        photo_space()
    except PhotoSearchUnavailable as error:
        return str(error)
    return ""


def _photo_search_page(
    request: HttpRequest,
    form: PhotoSearchForm,
    *,
    results: list[SimilarItem] | None = None,
    unavailable: str = "",
    list_id: str = "",
    retry_after: int = 0,
    status: int = 200,
) -> HttpResponse:
    context = {
        "form": form,
        "results": results,
        "unavailable": unavailable,
        "list_id": list_id,
        "retry_after": retry_after,
    }
    return render(request, "recommendations/photo_search.html", context, status=status)

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from .forms import PhotoSearchForm
from .photo_search import PhotoSearchUnavailable, search_by_photo
from .photo_uploads import keep_search_photo
from .ranking import SimilarItem

# Six rows of the four-across grid beside the photo on desktops.
PHOTO_SEARCH_RESULTS = 24


@require_http_methods(["GET", "POST"])
def photo_search(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        return _photo_search_page(request, PhotoSearchForm())
    form = PhotoSearchForm(request.POST, request.FILES)
    if not form.is_valid():
        return _photo_search_page(request, form, status=form.error_status)
    data = form.cleaned_data
    if settings.SEARCH_PHOTO_KEEP_UPLOADS:
        keep_search_photo(data["image"])
    try:
        results = search_by_photo(data["photo"], crop=data["crop"], k=PHOTO_SEARCH_RESULTS, scope=data["scope"])
    except PhotoSearchUnavailable as error:
        return _photo_search_page(request, form, unavailable=str(error), status=503)
    return _photo_search_page(request, form, results=results)


def _photo_search_page(
    request: HttpRequest,
    form: PhotoSearchForm,
    *,
    results: list[SimilarItem] | None = None,
    unavailable: str = "",
    status: int = 200,
) -> HttpResponse:
    context = {"form": form, "results": results, "unavailable": unavailable}
    return render(request, "recommendations/photo_search.html", context, status=status)

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from .selectors import visitor_events
from .services import forget_visitor


@require_http_methods(["GET", "POST"])
def your_data(request: HttpRequest) -> HttpResponse:
    """What the shop records of a visitor, and a button that deletes it."""
    if request.method == "POST":
        deleted = forget_visitor(request.visitor_id, request.user)
        messages.success(request, f"Deleted: {deleted} recorded interaction{'s' if deleted != 1 else ''}.")
        return redirect("events:your-data")
    events = visitor_events(request.visitor_id, request.user)
    context = {
        "count": events.count(),
        "recent": events.select_related("product")[:20],
        "retention_days": f"{settings.EVENTS_RETENTION_DAYS} days",
    }
    return render(request, "events/your_data.html", context)

"""Views: validate input, call the store, pick a template. No HTTP, parsing or HTML here."""

from django.contrib.auth.decorators import login_not_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from . import client, store
from .forms import LookupForm
from .models import StoredResponse
from .rendering import response_page


def upstream_error(request: HttpRequest, error: client.APIError, response_id: str) -> HttpResponse:
    return render(
        request,
        "inspector/upstream_error.html",
        {"error": error, "response_id": response_id},
        status=error.http_status,
    )


@require_GET
@login_not_required
def healthz(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok\n", content_type="text/plain")


@require_GET
def index(request: HttpRequest) -> HttpResponse:
    return _index(request, LookupForm())


def _index(request: HttpRequest, form: LookupForm, status: int = 200) -> HttpResponse:
    stored = StoredResponse.objects.defer("body").select_related("fetched_by")
    page = Paginator(stored, 50).get_page(request.GET.get("page"))
    return render(request, "inspector/index.html", {"form": form, "page": page}, status=status)


@require_GET
def lookup(request: HttpRequest) -> HttpResponse:
    form = LookupForm(request.GET)
    if not form.is_valid():
        return _index(request, form, status=400)
    return redirect("inspector:response-detail", response_id=form.cleaned_data["q"])


@require_GET
def response_detail(request: HttpRequest, response_id: str) -> HttpResponse:
    stored = StoredResponse.objects.filter(pk=response_id).first()
    if stored is None:
        try:
            stored = store.fetch_response(response_id, user=request.user)
        except client.APIError as error:
            return upstream_error(request, error, response_id)
    return render(request, "inspector/response_detail.html", response_page(stored))


@require_GET
def response_input_items(request: HttpRequest, response_id: str) -> HttpResponse:
    stored = get_object_or_404(StoredResponse, pk=response_id)
    page = store.input_items_page(stored, request.GET.get("page"))
    return render(
        request, "inspector/response_detail.html#input-items", {"stored": stored, "items": page}
    )


@require_GET
def response_json(request: HttpRequest, response_id: str) -> HttpResponse:
    stored = get_object_or_404(StoredResponse, pk=response_id)
    return JsonResponse(store.export_bundle(stored), json_dumps_params={"indent": 2})


@require_POST
def response_refresh(request: HttpRequest, response_id: str) -> HttpResponse:
    try:
        store.fetch_response(response_id, user=request.user)
    except client.APIError as error:
        return upstream_error(request, error, response_id)
    return HttpResponseRedirect(reverse("inspector:response-detail", args=[response_id]))


@require_POST
def response_resume(request: HttpRequest, response_id: str) -> HttpResponse:
    stored = get_object_or_404(StoredResponse, pk=response_id)
    try:
        store.resume_input_items(stored)
    except client.APIError as error:
        return upstream_error(request, error, response_id)
    return HttpResponseRedirect(reverse("inspector:response-detail", args=[response_id]))

"""Root URLs: the inspector app at /, Django's auth views, the admin."""

from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("accounts/", include("django.contrib.auth.urls")),
    path("admin/", admin.site.urls),
    path("", include("inspector.urls")),
]

"""Root URLs: the inspector app at /, Django's auth views, the admin."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

# Django's auth views less password reset, which is public by design and needs outgoing mail
# this dashboard does not configure. The first user's password is printed by `prepare`;
# `manage.py changepassword` resets one.
auth_urls = [
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("password_change/", auth_views.PasswordChangeView.as_view(), name="password_change"),
    path(
        "password_change/done/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
]

urlpatterns = [
    path("accounts/", include(auth_urls)),
    path("admin/", admin.site.urls),
    path("", include("inspector.urls")),
]

"""What Django's error reports (the DEBUG page, error e-mails) may show: never the API key."""

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.views.debug import SafeExceptionReporterFilter


def _holds(value: Any, secret: str) -> bool:
    try:
        return secret in repr(value)
    except Exception:  # a repr that fails: the report would not show it either
        return True


class KeyFilter(SafeExceptionReporterFilter):
    """Django's filter (settings named like KEY or SECRET, sensitive POST data), and more:
    every local variable of every frame whose value holds the configured API key is
    replaced, with DEBUG on too. (Django applies `sensitive_variables` only when DEBUG is
    off, and frames such as `redaction.mask(value, secret)` hold the key in a plain local.)
    """

    def get_traceback_frame_variables(self, request: HttpRequest | None, tb_frame: Any) -> Any:
        pairs = super().get_traceback_frame_variables(request, tb_frame)
        secret = settings.OPENAI_API_KEY
        if not secret:
            return pairs
        return [
            (name, self.cleansed_substitute if _holds(value, secret) else value)
            for name, value in pairs
        ]

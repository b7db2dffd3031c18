"""Uploads to /import/: refuse one announced as too large before reading its body."""

from django.conf import settings
from django.http import HttpRequest

#: Room for the multipart envelope (boundaries, headers, the CSRF field) around the file.
ENVELOPE = 64 * 1024


def announced_too_large(request: HttpRequest) -> bool:
    """Whether the request says (Content-Length) it carries more than IMPORT_MAX_BYTES.

    The file's own size is checked again once received (`UploadedFile.size`); this check
    only saves receiving a body that is certainly too large.
    """
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return False
    return length > settings.IMPORT_MAX_BYTES + ENVELOPE

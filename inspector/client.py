"""The only code that speaks HTTP to the upstream Responses API (httpx).

One method per endpoint; each returns schema objects. Failures become::

    APIError                 anything that went wrong talking to the upstream
    ├── NotConfigured        no OPENAI_API_KEY: says which variable to set
    ├── APIUnavailable       connection refused, timeout, 5xx (after retries)
    ├── NotFound             404: unknown id, store=false, or another project's key
    ├── AuthenticationFailed 401 / 403
    ├── RateLimited          429 (after retries)
    ├── RequestRejected      any other 4xx (400, 422 ...), with the upstream's message
    └── UnexpectedPayload    HTML error pages, malformed JSON, a body of the wrong shape

Retries follow the official SDK (spec/wire-behaviour.md): 408, 409, 429, 5xx and connection
errors, `x-should-retry` overrides, `retry-after-ms` / `retry-after` honoured up to 60 s,
otherwise min(0.5 * 2**n, 8) s less up to 25 % jitter.

Every read is bounded, whatever the upstream does: a body is read a chunk at a time, after
decompression, and refused past `max_body_bytes` (a 300 MB body or a gzip bomb costs at most
that); and a client built by `get_client` has `time_limit` seconds in all from when it is
built (`new_step` starts the clock again), for connecting, waiting, reading and retrying
together: the per-read timeout alone let an upstream that drips a byte at a time hold a
worker for as long as it liked. The README's deployment section sets these against the
server's worker timeout.
"""

import email.utils
import random
import re
import time
import zlib
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC
from typing import Any

import httpx
from django.conf import settings
from pydantic import ValidationError

from . import nesting, redaction
from .events import iter_events
from .schemas import InputItemsPage, InputTokensRequest, InputTokensResult, Response

USER_AGENT = "responses-inspector/0.1 (self-hosted dashboard; httpx)"

#: Every `include` value of spec §1.1: ask for all of them, so nothing is left out.
ALL_INCLUDES: tuple[str, ...] = (
    "file_search_call.results",
    "web_search_call.results",
    "web_search_call.action.sources",
    "message.input_image.image_url",
    "computer_call_output.output.image_url",
    "code_interpreter_call.outputs",
    "reasoning.encrypted_content",
    "message.output_text.logprobs",
)

RESPONSE_ID_RE = re.compile(r"^[A-Za-z0-9_-]{1,128}$")
# Unbounded on purpose: an over-long id must be refused, not silently cut short.
_ID_IN_TEXT_RE = re.compile(r"\b(resp_[A-Za-z0-9_-]+)")
#: Longest upstream error message kept (a gateway may send a whole page as "message").
MAX_MESSAGE = 1000
#: Headers that describe the body as it came over the wire, not as it was read.
_FRAMING = frozenset({"content-encoding", "content-length", "transfer-encoding"})


def pause(seconds: float) -> None:
    """Wait between retries (tests replace this)."""
    time.sleep(seconds)


class APIError(Exception):
    """Base of every upstream failure. `message` is safe to show (templates escape it)."""

    title = "The upstream API failed"
    http_status = 502
    advice = ""
    #: Whether asking again later can help (the upstream was down, slow or rate limited).
    transient = False

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        request_id: str | None = None,
        code: str | None = None,
    ) -> None:
        # Whatever built the error, the configured key never rides along in what it shows.
        if secret := settings.OPENAI_API_KEY:
            message = message.replace(secret, "[OPENAI_API_KEY]")
            code = code.replace(secret, "[OPENAI_API_KEY]") if code else code
            request_id = request_id.replace(secret, "[OPENAI_API_KEY]") if request_id else None
        super().__init__(message)
        self.message = message
        self.status_code = status_code
        self.request_id = request_id
        self.code = code


class NotConfigured(APIError):
    title = "No API key is configured"
    http_status = 503
    advice = "Stored, imported and demo responses stay browsable without a key."


class APIUnavailable(APIError):
    title = "The upstream API is down or too slow"
    http_status = 504
    transient = True
    advice = (
        "The server at OPENAI_BASE_URL did not answer well. Try again later; raise "
        "OPENAI_READ_TIMEOUT if it is only slow."
    )


class NotFound(APIError):
    title = "Response not found upstream"
    http_status = 404
    advice = (
        "The upstream has no response with this id for the configured key. Was it created "
        "with store=false, or with another project's key? Stored responses also expire "
        "upstream."
    )


class AuthenticationFailed(APIError):
    title = "The API key was refused"
    http_status = 502
    advice = (
        "Check OPENAI_API_KEY (and OPENAI_ORG_ID / OPENAI_PROJECT_ID) in this server's environment."
    )


class RateLimited(APIError):
    title = "Rate limited by the upstream API"
    http_status = 429
    transient = True
    advice = (
        "The key's rate limit was hit, even after waiting and retrying. Wait a moment and try"
        " again."
    )


class RequestRejected(APIError):
    title = "The upstream API rejected the request"
    http_status = 400
    advice = "The upstream refused the request as sent; its message above says why."


class UnexpectedPayload(APIError):
    title = "The upstream API sent something unexpected"
    http_status = 502
    advice = (
        "Often a proxy or gateway error page, or a server that does not speak the Responses "
        "API at OPENAI_BASE_URL. Its raw text is not shown."
    )


def validate_response_id(response_id: str) -> str:
    """Raise ValueError unless `response_id` is safe to put in a URL path."""
    if not RESPONSE_ID_RE.fullmatch(response_id or ""):
        raise ValueError(
            "A response id has only letters, digits, '_' and '-' (at most 128), like resp_abc123."
        )
    return response_id


def extract_response_id(text: str) -> str:
    """The response id in `text`: a bare id, or a URL (platform logs page) that contains one."""
    text = (text or "").strip()
    if match := _ID_IN_TEXT_RE.search(text):
        return validate_response_id(match.group(1))
    return validate_response_id(text)


def parse_json(content: bytes | str) -> Any:
    """Strict JSON: what json.loads accepts, less NaN and Infinity, and less anything nested
    deeper than nesting.MAX_DEPTH. Raises ValueError."""
    return nesting.loads(content)


def retry_delay(response: httpx.Response | None, retries_so_far: int) -> float:
    if response is not None:
        headers = response.headers
        try:
            if (ms := headers.get("retry-after-ms")) is not None:
                delay = float(ms) / 1000.0
                if 0 <= delay <= 60:
                    return delay
            if (after := headers.get("retry-after")) is not None:
                try:
                    delay = float(after)
                except ValueError:
                    parsed = email.utils.parsedate_to_datetime(after)
                    if parsed.tzinfo is None:  # "-0000": UTC, with no zone given
                        parsed = parsed.replace(tzinfo=UTC)
                    delay = float(parsed.timestamp() - time.time())
                if 0 <= delay <= 60:
                    return delay
        except (TypeError, ValueError):
            pass
    base = min(0.5 * 2.0**retries_so_far, 8.0)
    return base * (1 - 0.25 * random.random())


def should_retry(response: httpx.Response) -> bool:
    override = str(response.headers.get("x-should-retry", ""))
    if override in ("true", "false"):
        return override == "true"
    return response.status_code in (408, 409, 429) or response.status_code >= 500


def error_from(response: httpx.Response, secret: str = "") -> APIError:
    """The exception for an unsuccessful response; `secret` (the key) is masked in it."""
    status = response.status_code
    request_id = response.headers.get("x-request-id")
    message, code = "", None
    try:
        body = parse_json(response.content)
        if isinstance(body, dict) and isinstance(body.get("error"), dict):
            # A gateway may echo the key it was sent, anywhere it can: masked before the cut,
            # so a key across it never leaves its first part behind.
            message = redaction.clip(str(body["error"].get("message") or ""), MAX_MESSAGE, secret)
            code = str(body["error"]["code"]) if body["error"].get("code") else None
    except ValueError:
        # An HTML page from a proxy: its text is never shown (it may carry script).
        pass
    message = message or f"HTTP {status} with no error message from the upstream."
    if secret:
        # It must never reach a page or a log.
        code = code.replace(secret, redaction.KEY_MASK) if code else code
        request_id = request_id.replace(secret, redaction.KEY_MASK) if request_id else None
    kind: type[APIError]
    if status == 404:
        kind = NotFound
    elif status in (401, 403):
        kind = AuthenticationFailed
    elif status == 429:
        kind = RateLimited
    elif status >= 500 or status in (408, 409):
        kind = APIUnavailable
    else:
        kind = RequestRejected
    return kind(message, status_code=status, request_id=request_id, code=code)


class Client:
    def __init__(
        self,
        *,
        api_key: str,
        base_url: str,
        org_id: str = "",
        project_id: str = "",
        read_timeout: float = 30.0,
        connect_timeout: float = 5.0,
        max_retries: int = 2,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] | None = None,
        time_limit: float | None = None,
        max_body_bytes: int = 64 * 1024 * 1024,
    ) -> None:
        if not api_key:
            raise NotConfigured(
                "Set OPENAI_API_KEY (and OPENAI_BASE_URL for a server other than "
                "api.openai.com) in the environment of this server, then restart it."
            )
        headers = {
            "Authorization": f"Bearer {api_key}",
            "Accept": "application/json",
            # What _decoded inflates, in bounded pieces.
            "Accept-Encoding": "gzip, deflate",
            "User-Agent": USER_AGENT,
        }
        if org_id:
            headers["OpenAI-Organization"] = org_id
        if project_id:
            headers["OpenAI-Project"] = project_id
        self._api_key = api_key
        self.max_retries = max_retries
        self.sleep = sleep
        self.requests_sent = 0
        self.time_limit = time_limit
        self.max_body_bytes = max_body_bytes
        self.deadline: float | None = None
        self.new_step()
        self._http = httpx.Client(
            base_url=base_url.rstrip("/") + "/",
            headers=headers,
            timeout=httpx.Timeout(read_timeout, connect=connect_timeout),
            transport=transport,
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def new_step(self) -> None:
        """Start the clock again: the next requests have `time_limit` seconds in all."""
        if self.time_limit is not None:
            self.deadline = time.monotonic() + self.time_limit

    def seconds_left(self) -> float | None:
        """What is left of this step's time, or None when it has no limit."""
        return None if self.deadline is None else self.deadline - time.monotonic()

    def _out_of_time(self) -> APIUnavailable:
        return APIUnavailable(
            f"The upstream took longer than the {self.time_limit:g} s a request may spend on "
            "it in all (OPENAI_STEP_TIMEOUT), connecting, reading and retrying together."
        )

    def _timeout(self) -> httpx.Timeout:
        """This request's timeouts: the configured ones, cut to what is left of the step."""
        configured = self._http.timeout
        left = self.seconds_left()
        if left is None:
            return configured
        if left <= 0:
            raise self._out_of_time()

        def cut(value: float | None) -> float:
            return left if value is None else min(value, left)

        return httpx.Timeout(
            connect=cut(configured.connect),
            read=cut(configured.read),
            write=cut(configured.write),
            pool=cut(configured.pool),
        )

    def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """One request, its body read a chunk at a time (decompressed) within the byte cap
        and the step's time; returned as a response whose content is that body."""
        request = self._http.build_request(method, path, timeout=self._timeout(), **kwargs)
        response = self._http.send(request, stream=True)
        chunks: list[bytes] = []
        size = 0
        try:
            for chunk in _decoded(response):
                size += len(chunk)
                if size > self.max_body_bytes:
                    raise UnexpectedPayload(
                        f"The upstream's answer is larger than {self.max_body_bytes:,} bytes "
                        "(OPENAI_MAX_BODY_BYTES); it was not read further.",
                        status_code=response.status_code,
                        request_id=response.headers.get("x-request-id"),
                    )
                chunks.append(chunk)
                left = self.seconds_left()
                if left is not None and left <= 0:
                    raise self._out_of_time()
        finally:
            response.close()
        headers = [(k, v) for k, v in response.headers.multi_items() if k.lower() not in _FRAMING]
        return httpx.Response(
            response.status_code, headers=headers, content=b"".join(chunks), request=request
        )

    def _request(self, method: str, path: str, **kwargs: Any) -> Any:
        retries = 0
        while True:
            response: httpx.Response | None = None
            try:
                self.requests_sent += 1
                response = self._send(method, path, **kwargs)
            except httpx.TimeoutException as error:
                failure: APIError = APIUnavailable(
                    f"The upstream did not answer in time ({type(error).__name__})."
                )
            except httpx.TransportError as error:
                failure = APIUnavailable(
                    f"Could not connect to the upstream ({type(error).__name__})."
                )
            except httpx.RequestError as error:
                # The upstream answered but its body could not be read (bad gzip), or it
                # redirected too often: retried like a transport error.
                failure = APIUnavailable(
                    f"The upstream's answer could not be read ({type(error).__name__})."
                )
            else:
                if response.is_success:
                    return self._json(response)
                failure = error_from(response, self._api_key)
                if not should_retry(response):
                    raise failure
            if retries >= self.max_retries:
                raise failure
            delay = retry_delay(response, retries)
            left = self.seconds_left()
            if left is not None and delay >= left:
                raise failure  # waiting would outlast the step: say what failed now
            (self.sleep or pause)(delay)
            retries += 1

    def _json(self, response: httpx.Response) -> Any:
        try:
            return parse_json(response.content)
        except nesting.TooDeep as error:
            raise UnexpectedPayload(
                f"HTTP {response.status_code} with a JSON body {error}.",
                status_code=response.status_code,
                request_id=response.headers.get("x-request-id"),
            ) from None
        except ValueError:
            kind = response.headers.get("content-type", "unknown type")
            kind = redaction.clip(kind, 100, self._api_key)
            raise UnexpectedPayload(
                f"HTTP {response.status_code} with a body that is not JSON ({kind}).",
                status_code=response.status_code,
                request_id=response.headers.get("x-request-id"),
            ) from None

    def retrieve_response(
        self, response_id: str, include: Sequence[str] = ALL_INCLUDES
    ) -> Response:
        validate_response_id(response_id)
        data = self._request("GET", f"responses/{response_id}", params={"include[]": list(include)})
        response = _parse(Response, data, "a Response")
        if response.id != response_id:
            # Kept under the id it claims, it would be stored elsewhere than asked, and an
            # unsafe id would break every link to it.
            raise UnexpectedPayload(
                f"Asked for {response_id}, but the upstream answered with another response id."
            )
        if response.previous_response_id and not RESPONSE_ID_RE.fullmatch(
            response.previous_response_id
        ):
            # It becomes a link to /responses/<id>/: an unsafe one would break the page.
            raise UnexpectedPayload("The previous_response_id is not a usable response id.")
        return response

    def input_items_page(
        self,
        response_id: str,
        after: str | None = None,
        include: Sequence[str] = ALL_INCLUDES,
    ) -> InputItemsPage:
        """One page of input items (100, oldest first), after the item `after` if given."""
        validate_response_id(response_id)
        params: dict[str, Any] = {"limit": 100, "order": "asc", "include[]": list(include)}
        if after:
            params["after"] = after
        data = self._request("GET", f"responses/{response_id}/input_items", params=params)
        page = _parse(InputItemsPage, data, "a list of input items")
        if page.has_more and not page.data:
            # Asking again would loop forever; stopping would claim everything was fetched.
            raise UnexpectedPayload("A page of input items said has_more but was empty.")
        return page

    def iter_input_items(
        self,
        response_id: str,
        after: str | None = None,
        include: Sequence[str] = ALL_INCLUDES,
    ) -> Iterator[InputItemsPage]:
        """Every page of input items, oldest first, resuming after `after` if given."""
        while True:
            page = self.input_items_page(response_id, after, include)
            yield page
            if not page.has_more:
                return
            after = next_cursor(page, after)

    def count_input_tokens(self, request: InputTokensRequest) -> InputTokensResult:
        body = request.model_dump(mode="json", by_alias=True, exclude_none=True)
        data = self._request("POST", "responses/input_tokens", json=body)
        return _parse(InputTokensResult, data, "an input token count")

    def stream_events(
        self,
        response_id: str,
        starting_after: int | None = None,
        *,
        include: Sequence[str] = ALL_INCLUDES,
        max_seconds: float | None = None,
    ) -> Iterator[Any]:
        """Replay a background response's server-sent events (spec §1.1, §6), typed.

        Not retried: the caller resumes with `starting_after`, the last sequence number it
        kept. The read timeout applies per chunk. With `max_seconds` the read ends quietly
        once that long has passed, or when no chunk came in that long, so every connection
        is bounded in time. A drop mid-stream raises APIUnavailable after the events before it.
        """
        validate_response_id(response_id)
        # include_obfuscation=false: the padding only costs bandwidth and storage here.
        params: dict[str, Any] = {
            "stream": "true",
            "include[]": list(include),
            "include_obfuscation": "false",
        }
        if starting_after is not None:
            params["starting_after"] = starting_after
        timeout = self._timeout()
        deadline = None
        if (left := self.seconds_left()) is not None:
            max_seconds = left if max_seconds is None else min(max_seconds, left)
        if max_seconds is not None:
            deadline = time.monotonic() + max_seconds
            timeout = httpx.Timeout(
                min(timeout.read or max_seconds, max_seconds), connect=timeout.connect
            )
        self.requests_sent += 1
        try:
            with self._http.stream(
                "GET", f"responses/{response_id}", params=params, timeout=timeout
            ) as response:
                if not response.is_success:
                    response.read()
                    raise error_from(response, self._api_key)
                kind = response.headers.get("content-type", "")
                if "event-stream" not in kind:
                    shown = redaction.clip(kind, 100, self._api_key)
                    raise UnexpectedPayload(
                        "Expected a stream of events (text/event-stream), got "
                        f"{shown or 'no content type'}.",
                        status_code=response.status_code,
                        request_id=response.headers.get("x-request-id"),
                    )
                yield from iter_events(_chunks(response, deadline), secret=self._api_key)
        except httpx.TimeoutException as error:
            raise APIUnavailable(
                f"The upstream did not answer in time ({type(error).__name__})."
            ) from None
        except httpx.RequestError as error:
            raise APIUnavailable(
                f"Could not connect to the upstream ({type(error).__name__})."
            ) from None


#: The most one step of decompression may produce: a 1,000:1 gzip bomb inflates a chunk of
#: the wire at a time into pieces of at most this size, never whole.
_INFLATE_PIECE = 256 * 1024


def _decoded(response: httpx.Response) -> Iterator[bytes]:
    """The body as it was sent, decompressed (gzip, deflate) in bounded pieces.

    httpx inflates each chunk it reads whole, so one chunk of a gzip bomb becomes a thousand
    times its size in memory before anything can count it; here zlib gives at most
    _INFLATE_PIECE bytes at a time. Other encodings are what httpx asks for (gzip, deflate)
    or none.
    """
    if response.is_stream_consumed:  # a stand-in's response, built whole (tests)
        yield from response.iter_bytes()
        return
    encoding = response.headers.get("content-encoding", "").strip().lower()
    if encoding not in ("gzip", "x-gzip", "deflate"):
        yield from response.iter_raw()
        return
    # gzip framing; for deflate, a zlib stream (RFC 9110), else raw deflate as some send.
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS) if encoding != "deflate" else None
    try:
        for data in response.iter_raw():
            if inflater is None:
                wrapped = (
                    len(data) > 1 and data[0] & 0x0F == 8 and (data[0] << 8 | data[1]) % 31 == 0
                )
                inflater = zlib.decompressobj(zlib.MAX_WBITS if wrapped else -zlib.MAX_WBITS)
            while data:
                piece = inflater.decompress(data, _INFLATE_PIECE)
                data = inflater.unconsumed_tail
                if piece:
                    yield piece
        while inflater is not None and (piece := inflater.decompress(b"", _INFLATE_PIECE)):
            yield piece
    except zlib.error as error:
        raise httpx.DecodingError(f"The body could not be decompressed ({error}).") from None


def next_cursor(page: InputItemsPage, after: str | None) -> str:
    """The id to ask for the page after `page` (which said has_more), which came after
    `after`; UnexpectedPayload when there is none or it does not advance."""
    last = page.wire["data"][-1]
    cursor = (last.get("id") if isinstance(last, dict) else None) or page.last_id
    if not cursor or not isinstance(cursor, str):
        raise UnexpectedPayload("A page said has_more but gave no id to continue after.")
    if cursor == after:
        raise UnexpectedPayload("The input-items cursor did not advance.")
    return cursor


def _chunks(response: httpx.Response, deadline: float | None) -> Iterator[bytes]:
    """The body's chunks as they arrive; stops quietly at `deadline` (a bounded read)."""
    iterator = response.iter_bytes()
    while True:
        try:
            chunk = next(iterator)
        except StopIteration:
            return
        except httpx.TimeoutException:
            if deadline is not None:
                return
            raise APIUnavailable(
                "The upstream stopped sending events mid-stream (read timeout)."
            ) from None
        except httpx.RequestError as error:
            raise APIUnavailable(
                f"The connection dropped mid-stream ({type(error).__name__})."
            ) from None
        yield chunk
        if deadline is not None and time.monotonic() >= deadline:
            return


def _parse[T: (Response, InputItemsPage, InputTokensResult)](
    cls: type[T], data: Any, what: str
) -> T:
    try:
        return cls.from_wire(data)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "(top level)"
        raise UnexpectedPayload(f"Expected {what}; {where}: {first['msg']}.") from None


_transport_override: httpx.BaseTransport | None = None


@contextmanager
def override_transport(transport: httpx.BaseTransport) -> Iterator[None]:
    """Tests: route every client built by `get_client` through `transport`."""
    global _transport_override
    previous, _transport_override = _transport_override, transport
    try:
        yield
    finally:
        _transport_override = previous


def get_client() -> Client:
    """The one factory: a client configured from settings, its step's clock started."""
    return Client(
        api_key=settings.OPENAI_API_KEY,
        base_url=settings.OPENAI_BASE_URL,
        org_id=settings.OPENAI_ORG_ID,
        project_id=settings.OPENAI_PROJECT_ID,
        read_timeout=settings.OPENAI_READ_TIMEOUT,
        connect_timeout=settings.OPENAI_CONNECT_TIMEOUT,
        max_retries=settings.OPENAI_MAX_RETRIES,
        transport=_transport_override,
        time_limit=settings.OPENAI_STEP_TIMEOUT,
        max_body_bytes=settings.OPENAI_MAX_BODY_BYTES,
    )

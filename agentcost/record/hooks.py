"""The recorder's hook into the SDKs' transport.

Both official SDKs send every HTTP attempt through ``httpx2.Client.send`` /
``httpx2.AsyncClient.send`` (retries included: each attempt is one ``send``). :func:`install`
wraps those two methods once per process; the wrapper records a request only when a recorder is
active, the request is a model call (:func:`agentcost.record.wire.api_of`) and an SDK sent it
(its ``x-stainless-*`` headers or ``Anthropic/`` / ``OpenAI/`` user agent). Everything else
goes straight through.

* Not streamed (the SDK read the body inside ``send``): the line is written before ``send``
  returns.
* Streamed: the response's byte stream is wrapped in a tee that hands every chunk on unchanged
  and as it comes (a list append per chunk is the only added work); the line is written when the
  SDK closes the response (end of stream, ``with`` exit, or ``close()``). TTFT is the time to the
  chunk holding the first content event (text, tool arguments); for a compressed stream, to the
  first chunk.
* A connection error or timeout is written as an error line (``is_error``, ``error.type``) and
  re-raised unchanged.

Every recorder step is guarded: a failure of the recorder prints one warning to stderr and the
user's call carries on as if no recorder were there.
"""

from __future__ import annotations

import contextvars
import functools
import os
import sys
import threading
import time
from typing import Any

from agentcost.record.line import CallInfo, build_line
from agentcost.record.wire import api_of, read_answer

TASK: contextvars.ContextVar[str | None] = contextvars.ContextVar("agentcost_task", default=None)
_INSTALLED = False
_LOCK = threading.Lock()


class Recorder:
    """Appends one line per call to a file; several processes may append to the same file."""

    def __init__(
        self, path: str, *, content: bool = True, mode: str = "x", run_id: str | None = None
    ) -> None:
        flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT
        if mode == "x":
            flags |= os.O_EXCL
        elif mode == "w":
            flags |= os.O_TRUNC
        self.path = path
        self.content = content
        self.fd = os.open(path, flags, 0o666)
        self.run_id = run_id or f"run-{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}"
        self.lines = 0
        self.failures = 0
        self._lock = threading.Lock()
        from agentcost import __version__

        self.version = __version__

    def task_id(self) -> str:
        return TASK.get() or os.environ.get("AGENTCOST_TASK") or self.run_id

    def write(self, info: CallInfo, answer: Any) -> None:
        import orjson

        line = build_line(info, answer, content=self.content, version=self.version)
        try:
            data = orjson.dumps(line) + b"\n"
        except TypeError:
            import json

            data = (json.dumps(line, default=str) + "\n").encode()
        with self._lock:
            os.write(self.fd, data)  # O_APPEND: one write per line, whole lines per process
            self.lines += 1

    def close(self) -> None:
        with self._lock:
            if self.fd >= 0:
                os.close(self.fd)
                self.fd = -1


ACTIVE: list[Recorder] = []


def warn(rec: Recorder | None, exc: BaseException) -> None:
    """One line on stderr for the first failure of a recorder; later ones are counted."""
    if rec is not None:
        rec.failures += 1
        if rec.failures > 1:
            return
    try:
        print(
            f"agentcost record: a call was not recorded ({type(exc).__name__}: {exc}); "
            "the call itself was not affected",
            file=sys.stderr,
        )
    except Exception:  # noqa: S110 - never let the warning break the call
        pass


def _from_sdk(headers: Any) -> bool:
    ua = str(headers.get("user-agent") or "")
    return "x-stainless-lang" in headers or ua.startswith(("Anthropic/", "OpenAI/"))


class _Call:
    """One HTTP attempt being recorded."""

    def __init__(self, rec: Recorder, api: str, request: Any) -> None:
        self.rec, self.api = rec, api
        self.started_ns = time.time_ns()
        self.t0 = time.perf_counter()
        try:
            self.raw: bytes | None = request.content  # parsed after the call, not before
        except Exception:
            self.raw = None
        h = request.headers
        try:
            self.attempt = int(h.get("x-stainless-retry-count") or 0)
        except ValueError:
            self.attempt = 0
        self.task_id = rec.task_id()
        self.chunks: list[bytes] = []
        self.marks: list[tuple[float, int]] = []  # (perf_counter, bytes so far)
        self.size = 0
        self.eof = False
        self.done = False

    def body(self) -> dict[str, Any] | None:
        import json

        try:
            body = json.loads(self.raw) if self.raw else None
        except ValueError:
            return None
        return body if isinstance(body, dict) else None

    def info(self, ended: float, status: int | None, **kw: Any) -> CallInfo:
        return CallInfo(
            api=self.api,
            task_id=self.task_id,
            body=self.body(),
            started_ns=self.started_ns,
            ended_ns=self.started_ns + int((ended - self.t0) * 1e9),
            status=status,
            attempt=self.attempt,
            **kw,
        )

    def failed(self, exc: BaseException) -> None:
        if self.done:
            return
        self.done = True
        try:
            from agentcost.record.wire import Answer

            self.rec.write(
                self.info(time.perf_counter(), None, exception=type(exc).__name__), Answer()
            )
        except Exception as err:
            warn(self.rec, err)

    def chunk(self, data: bytes) -> None:
        self.chunks.append(data)
        self.size += len(data)
        self.marks.append((time.perf_counter(), self.size))

    def finish(self, response: Any, body: bytes | None, streamed: bool) -> None:
        if self.done:
            return
        self.done = True
        ended = time.perf_counter()
        try:
            self._write(response, body, streamed, ended)
        except Exception as err:
            warn(self.rec, err)

    def _write(self, response: Any, body: bytes | None, streamed: bool, ended: float) -> None:
        enc = (response.headers.get("content-encoding") or "identity").lower()
        sse = "text/event-stream" in (response.headers.get("content-type") or "")
        if body is None:
            body = b"".join(self.chunks)
            if enc not in ("identity", ""):
                import httpx2

                body = httpx2.Response(200, headers={"content-encoding": enc}, content=body).read()
            if self.eof and self.marks:
                ended = self.marks[-1][0]
        answer = read_answer(self.api, body, sse)
        ttft = None
        if sse and self.marks:
            t = self.marks[0][0]
            off = answer.first_content_offset
            if off is not None and enc in ("identity", ""):
                t = next((m for m, n in self.marks if n >= off), t)
            ttft = (t - self.t0) * 1000
        rid = response.headers.get("request-id") or response.headers.get("x-request-id")
        self.rec.write(
            self.info(ended, response.status_code, ttft_ms=ttft, stream=sse, request_id=rid), answer
        )


def _begin(request: Any) -> _Call | None:
    if not ACTIVE:
        return None
    rec = ACTIVE[-1]
    try:
        api = api_of(request.method, request.url.path)
        if api is None or not _from_sdk(request.headers):
            return None
        return _Call(rec, api, request)
    except Exception as err:
        warn(rec, err)
        return None


def _attach(call: _Call, response: Any, stream: bool) -> None:
    try:
        if not stream:
            call.finish(response, response.content, False)
        else:
            response.stream = _tee(response.stream, call, response)
    except Exception as err:
        warn(call.rec, err)


def _tee(inner: Any, call: _Call, response: Any) -> Any:
    import httpx2

    if isinstance(inner, httpx2.AsyncByteStream):
        return _async_tee_class()(inner, call, response)
    return _sync_tee_class()(inner, call, response)


@functools.lru_cache(maxsize=1)
def _sync_tee_class() -> type:
    import httpx2

    class TeeStream(httpx2.SyncByteStream):
        def __init__(self, inner: Any, call: _Call, response: Any) -> None:
            self._inner, self._call, self._response = inner, call, response

        @property
        def elapsed(self) -> Any:
            return getattr(self._inner, "elapsed", None)

        def __iter__(self) -> Any:
            for chunk in self._inner:
                try:
                    self._call.chunk(chunk)
                except Exception as err:
                    warn(self._call.rec, err)
                yield chunk
            self._call.eof = True

        def close(self) -> None:
            try:
                self._inner.close()
            finally:
                self._call.finish(self._response, None, True)

    return TeeStream


@functools.lru_cache(maxsize=1)
def _async_tee_class() -> type:
    import httpx2

    class AsyncTeeStream(httpx2.AsyncByteStream):
        def __init__(self, inner: Any, call: _Call, response: Any) -> None:
            self._inner, self._call, self._response = inner, call, response

        @property
        def elapsed(self) -> Any:
            return getattr(self._inner, "elapsed", None)

        async def __aiter__(self) -> Any:
            async for chunk in self._inner:
                try:
                    self._call.chunk(chunk)
                except Exception as err:
                    warn(self._call.rec, err)
                yield chunk
            self._call.eof = True

        async def aclose(self) -> None:
            try:
                await self._inner.aclose()
            finally:
                self._call.finish(self._response, None, True)

    return AsyncTeeStream


def install() -> bool:
    """Wrap ``httpx2``'s ``send`` methods (once per process). False when httpx2 (and so the
    SDKs) is not installed."""
    global _INSTALLED
    with _LOCK:
        if _INSTALLED:
            return True
        try:
            import httpx2
        except ImportError:
            return False
        _wrap_sync(httpx2.Client)
        _wrap_async(httpx2.AsyncClient)
        _INSTALLED = True
        return True


def _wrap_sync(cls: Any) -> None:
    orig = cls.send

    @functools.wraps(orig)
    def send(self: Any, request: Any, *, stream: bool = False, **kw: Any) -> Any:
        call = _begin(request)
        if call is None:
            return orig(self, request, stream=stream, **kw)
        try:
            response = orig(self, request, stream=stream, **kw)
        except Exception as exc:
            call.failed(exc)
            raise
        _attach(call, response, stream)
        return response

    cls.send = send


def _wrap_async(cls: Any) -> None:
    orig = cls.send

    @functools.wraps(orig)
    async def send(self: Any, request: Any, *, stream: bool = False, **kw: Any) -> Any:
        call = _begin(request)
        if call is None:
            return await orig(self, request, stream=stream, **kw)
        try:
            response = await orig(self, request, stream=stream, **kw)
        except Exception as exc:
            call.failed(exc)
            raise
        _attach(call, response, stream)
        return response

    cls.send = send


class _HookOnImport:
    """A meta-path finder that hooks httpx2 right after the program imports it."""

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> Any:
        if name != "httpx2":
            return None
        import importlib.machinery

        spec = importlib.machinery.PathFinder.find_spec(name, path)
        if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module"):
            return spec
        loader = spec.loader
        orig = loader.exec_module

        def exec_module(module: Any) -> None:
            orig(module)
            try:
                install()
            except Exception as err:
                warn(ACTIVE[-1] if ACTIVE else None, err)

        loader.exec_module = exec_module  # type: ignore[method-assign]
        return spec


def install_when_imported() -> None:
    """:func:`install` now if httpx2 is loaded, else as soon as it is imported."""
    if "httpx2" in sys.modules:
        install()
    elif not any(isinstance(f, _HookOnImport) for f in sys.meta_path):
        sys.meta_path.insert(0, _HookOnImport())

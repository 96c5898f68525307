"""SageMaker multi-model endpoints: many models of one framework behind one container.

The contract is AWS's "Custom Containers Contract for Multi-Model Endpoints"
(https://docs.aws.amazon.com/sagemaker/latest/dg/mms-container-apis.html) for CPU-backed
multi-model endpoints. SageMaker downloads ``<prefix><TargetModel>`` and unpacks it under
``/opt/ml/models/<model_name>/model``, then drives the container with:

=========================================  ==================================================
``POST /models`` ``{"model_name", "url"}``  load; ``409`` if already loaded, ``507`` if it
                                            cannot fit in memory
``GET /models[?next_page_token=…]``         ``{"models": [{"modelName", "modelUrl"}],
                                            "nextPageToken"?}`` (paginated)
``GET /models/<model_name>``                ``{"modelName", "modelUrl"}``; ``404`` if not loaded
``DELETE /models/<model_name>``             unload; ``404`` if not loaded
``POST /models/<model_name>/invoke``        inference, as ``/invocations``; ``404`` if not
                                            loaded. ``X-Amzn-SageMaker-Target-Model`` carries
                                            the caller's ``TargetModel`` (for logging only:
                                            ``model_name`` is opaque and routes)
=========================================  ==================================================

Two levels, so that pre-forked workers stay consistent:

* The :class:`ModelRegistry` is the contract's view: the models SageMaker has loaded, shared by
  every worker. SageMaker sends each load/unload once, to whichever worker accepts it; that
  worker commits it to a JSON file (atomic replace, under an ``flock``) and bumps a generation
  counter in shared memory. Every worker compares the counter on each model request (one
  memory read) and re-reads the registry when it moved, so a model loaded through worker A is
  invocable through worker B, and one unloaded through A is gone (404) in B as well. Each
  registration has a serial: a model unloaded and loaded again under the same name and
  directory replaces every worker's old copy, even one that never saw the gap.
* Each worker's :class:`ModelCache` holds the live predictors, least recently used first,
  bounded by ``MLOPS_MODEL_CACHE_MAX_BYTES`` divided by the number of workers (each worker holds
  its own copy of every model it serves). A worker loads a registered model the first time it
  serves it and evicts least recently used models to stay within its share. An evicted model
  stays registered: its next request reloads it from its directory (a cold start, not a 404), so
  SageMaker's view never diverges from the container's. ``507`` is returned only when one
  model's estimate alone exceeds a worker's share.

A model's memory footprint is *estimated*, not measured: artifact bytes on disk x
``MLOPS_MODEL_MEMORY_FACTOR`` (default 3) + 256 KiB. Measured on onnxruntime 1.31 (``make
bench`` prints it again): a session grows RSS by 1.9-2.9x its ONNX file for 1 MB files, 2.4x for
10 MB, a few KiB for sub-kilobyte files (the first session in a process adds ~7 MB of runtime
state, paid once per worker whatever the models). RSS deltas were rejected as the measure:
freed memory is reused by the allocator, so the second model loaded after an eviction can show
no growth at all. Loads run on the worker's event loop (a cold request blocks that worker's
other connections for the load time; the other workers keep serving).
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import fcntl
import json
import logging
import mmap
import os
import tempfile
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, unquote

from .codecs import JSON
from .errors import (
    BadRequestError,
    ConflictError,
    InsufficientStorageError,
    MethodNotAllowedError,
    ModelLoadError,
    NotFoundError,
)
from .inference import invoke
from .predictor import Predictor, create_predictor
from .settings import Settings

log = logging.getLogger("mlops_runtime.models")

MAX_NAME_LENGTH = 1024
MODEL_OVERHEAD_BYTES = 256 * 1024
TARGET_MODEL_HEADER = "x-amzn-sagemaker-target-model"
Reply = tuple[int, bytes, str, str]  # status, body, content type, extra header lines
Table = dict[str, tuple[str, int]]  # model name -> (directory, serial of that registration)


def check_model_name(raw: str) -> str:
    """``raw`` (a percent-decoded path segment or a JSON string) as a model name, or 400.

    The name is opaque (SageMaker's, not the caller's ``TargetModel``) and only keys the
    registry, never a path; it still must fit in one URL path segment and in a log line.
    """
    if not raw or len(raw) > MAX_NAME_LENGTH:
        raise BadRequestError(
            f"model_name must be 1-{MAX_NAME_LENGTH} characters", code="bad_model_name"
        )
    if raw in (".", "..") or any(c in "/\\" or not c.isprintable() or c.isspace() for c in raw):
        raise BadRequestError(
            "model_name must be printable, without spaces, '/', '\\', and not '.' or '..'",
            code="bad_model_name",
        )
    return raw


def check_model_url(url: object, root: Path) -> Path:
    """The model directory ``url`` names, if it is a directory inside ``root``; else 400/404."""
    if not isinstance(url, str) or not url.startswith("/"):
        raise BadRequestError("url must be an absolute path", code="bad_model_url")
    try:
        path = Path(url).resolve(strict=True)
    except (OSError, RuntimeError):
        raise NotFoundError(
            f"model directory {url!r} does not exist", code="model_url_not_found"
        ) from None
    if not path.is_relative_to(root.resolve()):
        raise BadRequestError(
            f"url must be inside {root} (got {url!r})", code="model_url_outside_root"
        )
    if not path.is_dir():
        raise BadRequestError(f"url {url!r} is not a directory", code="bad_model_url")
    return path


def artifact_bytes(directory: Path) -> int:
    """Bytes of the regular files under ``directory`` (symlinks are not followed)."""
    total = 0
    for root, _dirs, files in os.walk(directory):
        for name in files:
            file = Path(root, name)
            with contextlib.suppress(OSError):
                if not file.is_symlink():
                    total += file.lstat().st_size
    return total


def estimate_footprint(directory: Path, factor: float) -> int:
    """Estimated resident bytes of a model loaded from ``directory`` (see the module notes)."""
    return int(artifact_bytes(directory) * factor) + MODEL_OVERHEAD_BYTES


def default_cache_bytes() -> int:
    """Half of the memory this container may use (its cgroup limit, else physical memory)."""
    physical = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    with contextlib.suppress(OSError, ValueError):
        raw = Path("/sys/fs/cgroup/memory.max").read_text().strip()
        if raw != "max":
            physical = min(physical, int(raw))
    return physical // 2


class ModelRegistry:
    """The models SageMaker has loaded (name → directory), shared by every worker.

    Create it in the supervisor before forking: the generation counter is anonymous shared
    memory inherited by the workers; the table is a JSON file replaced atomically under an
    exclusive ``flock`` (the only cross-process write path).
    """

    def __init__(self, directory: Path | None = None) -> None:
        self.directory = directory or Path(tempfile.mkdtemp(prefix="mlops-models-"))
        self.path = self.directory / "models.json"
        self._lock_path = self.directory / "models.lock"
        self._shared = mmap.mmap(-1, 8)
        self._counter = memoryview(self._shared).cast("q")
        if not self.path.exists():
            self._write({})

    @property
    def generation(self) -> int:
        """Bumped after every change (readers re-read the table when it moved)."""
        return int(self._counter[0])

    def read(self) -> Table:
        """The current table."""
        raw: dict[str, list[str | int]] = json.loads(self.path.read_text())
        return {name: (str(url), int(serial)) for name, (url, serial) in raw.items()}

    @contextlib.contextmanager
    def _locked(self) -> Iterator[Table]:
        with self._lock_path.open("a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield self.read()
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def _write(self, table: Table) -> None:
        tmp = self.path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(table, sort_keys=True))
        tmp.replace(self.path)  # the file first, then the counter: see ModelCache.sync

    def add(self, name: str, url: str) -> int | None:
        """Register ``name``; its serial (unique to this registration), None if registered.

        The serial tells a worker that a model unloaded and loaded again under the same name
        and directory (with new contents, perhaps) is not the copy it holds.
        """
        with self._locked() as table:
            if name in table:
                return None
            serial = self.generation + 1
            table[name] = (url, serial)
            self._write(table)
            self._counter[0] = serial
        return serial

    def remove(self, name: str) -> bool:
        """Unregister ``name``; False if it was not registered."""
        with self._locked() as table:
            if table.pop(name, None) is None:
                return False
            self._write(table)
            self._counter[0] += 1
        return True


@dataclass(slots=True)
class CachedModel:
    """A loaded model in one worker."""

    predictor: Predictor
    url: str
    footprint: int
    serial: int


class ModelCache:
    """One worker's loaded models: least recently used first, within ``budget`` bytes."""

    def __init__(self, budget: int, loader: Callable[[Path], Predictor], factor: float) -> None:
        self.budget = budget
        self.loader = loader
        self.factor = factor
        self.entries: OrderedDict[str, CachedModel] = OrderedDict()
        self.used = 0
        self.evictions = 0

    def get(self, name: str) -> CachedModel | None:
        """The loaded model, marked most recently used."""
        entry = self.entries.get(name)
        if entry is not None:
            self.entries.move_to_end(name)
        return entry

    def load(self, name: str, url: str, serial: int) -> CachedModel:
        """Load ``name`` from ``url``, evicting least recently used models to make room."""
        directory = Path(url)
        footprint = estimate_footprint(directory, self.factor)
        if footprint > self.budget:
            raise InsufficientStorageError(
                f"model {name!r} needs an estimated {footprint} bytes; each worker may hold "
                f"{self.budget} (MLOPS_MODEL_CACHE_MAX_BYTES / workers)"
            )
        self.drop(name)
        while self.entries and self.used + footprint > self.budget:
            evicted, entry = self.entries.popitem(last=False)
            self.used -= entry.footprint
            self.evictions += 1
            log.info("model evicted", extra={"model_name": evicted, "bytes": entry.footprint})
        started = time.perf_counter()
        predictor = self.loader(directory)
        entry = CachedModel(predictor, url, footprint, serial)
        self.entries[name] = entry
        self.used += footprint
        log.info(
            "model loaded",
            extra={
                "model_name": name,
                "bytes": footprint,
                "seconds": round(time.perf_counter() - started, 4),
            },
        )
        return entry

    def drop(self, name: str) -> None:
        """Forget ``name`` if loaded."""
        entry = self.entries.pop(name, None)
        if entry is not None:
            self.used -= entry.footprint

    def retain(self, table: Table) -> None:
        """Drop every model no longer registered, or registered again since it was loaded."""
        for name in [n for n, e in self.entries.items() if table.get(n, ("", 0))[1] != e.serial]:
            self.drop(name)


def predictor_loader(settings: Settings) -> Callable[[Path], Predictor]:
    """Load the configured predictor (``MLOPS_PREDICTOR`` or ONNX) from a model directory."""

    def load(directory: Path) -> Predictor:
        predictor = create_predictor(settings)
        predictor.load(directory)
        return predictor

    return load


def _page_token(name: str) -> str:
    """The last name of a page, base64url without padding (safe in a query string)."""
    return base64.urlsafe_b64encode(name.encode()).decode().rstrip("=")


def _after(token: str) -> str:
    try:
        padded = token + "=" * (-len(token) % 4)
        name = base64.b64decode(padded.encode("ascii"), altchars=b"-_", validate=True).decode()
    except (binascii.Error, UnicodeError, ValueError):
        name = ""
    if not name:
        raise BadRequestError("next_page_token is not one this server issued", code="bad_token")
    return name


def _json(status: int, payload: object) -> Reply:
    return status, json.dumps(payload).encode(), JSON, ""


class MultiModelHandler:
    """The ``/models`` routes of one worker (see the module notes)."""

    def __init__(
        self,
        settings: Settings,
        registry: ModelRegistry,
        budget: int,
        loader: Callable[[Path], Predictor] | None = None,
    ) -> None:
        self.settings = settings
        self.registry = registry
        self.root = settings.models_root
        self.cache = ModelCache(
            budget, loader or predictor_loader(settings), settings.model_memory_factor
        )
        self._seen = -1
        self._table: Table = {}

    def table(self) -> Table:
        """The registry as of now (re-read only when its generation moved)."""
        generation = self.registry.generation
        if generation != self._seen:
            self._table = self.registry.read()
            self._seen = generation
            self.cache.retain(self._table)
        return self._table

    def handle(
        self, method: str, path: str, query: str, headers: dict[str, str], body: bytes
    ) -> Reply:
        """Answer one ``/models`` request; raises ``InferenceError`` for 4xx/5xx replies."""
        parts = path.split("/")  # "", "models", name?, "invoke"?
        if path == "/models":
            if method == "GET":
                return self.list(query)
            if method == "POST":
                return self.load(body)
            raise MethodNotAllowedError("use GET or POST /models", allow="GET, POST")
        if len(parts) == 3:
            name = check_model_name(unquote(parts[2]))
            if method in ("GET", "HEAD"):
                return self.describe(name)
            if method == "DELETE":
                return self.unload(name)
            raise MethodNotAllowedError(
                "use GET or DELETE /models/<model_name>", allow="GET, HEAD, DELETE"
            )
        if len(parts) == 4 and parts[3] == "invoke":
            name = check_model_name(unquote(parts[2]))
            if method != "POST":
                raise MethodNotAllowedError("use POST /models/<model_name>/invoke", allow="POST")
            return self.invoke(name, headers, body)
        raise NotFoundError(f"no route {path!r} under /models")

    def list(self, query: str) -> Reply:
        """One page of the registry, sorted by name."""
        params = parse_qs(query, keep_blank_values=True)
        tokens = params.get("next_page_token", [])
        names = sorted(self.table())
        if tokens and tokens[0]:
            after = _after(tokens[0])
            names = [n for n in names if n > after]
        size = self.settings.models_page_size
        page = names[:size]
        table = self._table
        payload: dict[str, object] = {
            "models": [{"modelName": n, "modelUrl": table[n][0]} for n in page]
        }
        if len(names) > size:
            payload["nextPageToken"] = _page_token(page[-1])
        return _json(200, payload)

    def describe(self, name: str) -> Reply:
        """One registered model."""
        registered = self.table().get(name)
        if registered is None:
            raise NotFoundError(f"model {name!r} is not loaded", code="model_not_loaded")
        return _json(200, {"modelName": name, "modelUrl": registered[0]})

    def load(self, body: bytes) -> Reply:
        """Load into this worker, then register for all (409 if registered first)."""
        try:
            request = json.loads(body)
        except (ValueError, RecursionError):
            raise BadRequestError("body must be JSON {model_name, url}", code="bad_json") from None
        if not isinstance(request, dict):
            raise BadRequestError("body must be a JSON object {model_name, url}", code="bad_json")
        raw_name = request.get("model_name")
        if not isinstance(raw_name, str):
            raise BadRequestError("model_name must be a string", code="bad_model_name")
        name = check_model_name(raw_name)
        url = request.get("url")
        directory = check_model_url(url, self.root)
        if name in self.table():
            raise ConflictError(f"model {name!r} is already loaded", code="model_already_loaded")
        try:
            entry = self.cache.load(name, str(directory), serial=0)  # 0: not registered yet
        except ModelLoadError as exc:
            raise BadRequestError(f"cannot load {name!r}: {exc}", code="model_load_failed") from exc
        serial = self.registry.add(name, str(directory))
        if serial is None:  # another worker registered it meanwhile: drop this copy
            self.cache.drop(name)
            raise ConflictError(f"model {name!r} is already loaded", code="model_already_loaded")
        entry.serial = serial
        self.table()
        return _json(200, {"modelName": name, "modelUrl": str(directory)})

    def unload(self, name: str) -> Reply:
        """Unregister everywhere; each worker frees its copy on its next model request."""
        if not self.registry.remove(name):
            raise NotFoundError(f"model {name!r} is not loaded", code="model_not_loaded")
        self.table()
        log.info("model unloaded", extra={"model_name": name})
        return _json(200, {"modelName": name})

    def invoke(self, name: str, headers: dict[str, str], body: bytes) -> Reply:
        """Score with ``name``, loading it into this worker first if needed."""
        registered = self.table().get(name)
        if registered is None:
            raise NotFoundError(f"model {name!r} is not loaded", code="model_not_loaded")
        entry = self.cache.get(name)
        cache = "hit"
        if entry is None:
            cache = "miss"
            entry = self.cache.load(name, *registered)  # it loaded once: a failure is a 500
        payload, content_type = invoke(
            entry.predictor,
            body,
            headers.get("content-type"),
            headers.get("accept"),
            self.settings.limits,
        )
        return 200, payload, content_type, f"X-Model-Cache: {cache}\r\n"

    def invoke_target(self, headers: dict[str, str], body: bytes) -> Reply:
        """``POST /invocations`` with ``X-Amzn-SageMaker-Target-Model: <model_name>`` (local
        testing; SageMaker itself calls ``/models/<model_name>/invoke``)."""
        target = headers.get(TARGET_MODEL_HEADER)
        if not target:
            raise BadRequestError(
                "multi-model mode: POST /models/<model_name>/invoke, or /invocations with an "
                "X-Amzn-SageMaker-Target-Model header naming a loaded model",
                code="target_model_required",
            )
        return self.invoke(check_model_name(target), headers, body)

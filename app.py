"""The Hugging Face Space: search a fashion catalog by text, photo or photo + text, with filters, and a client API.

    python app.py --index build/fashion-index    # a bundle folder or Hub dataset repo id; SEARCH_INDEX on a Space

With no index configured, a small default index is built once and cached (see search/default_index.py).
"""

import argparse
import ctypes
import functools
import html
import io
import logging
import os
import re
import sys
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gradio as gr
from gradio import FileData
from gradio.utils import get_upload_folder
from PIL import Image, UnidentifiedImageError

from search import SearchEngine, SearchError, SearchResponse
from search.build.default_index import ensure_default_bundle
from search.bundle import looks_like_repo_id
from search.catalog import NAME_COLUMN
from search.errors import InvalidImageError, InvalidQueryError

# The photo's share in image + text queries and the semantic (CLIP) share of text scores, set by the evaluation.
from search.hybrid import DEFAULT_IMAGE_WEIGHT, DEFAULT_SEMANTIC_WEIGHT
from search.images import MAX_IMAGE_BYTES, decode_image
from search.query import MAX_K

logger = logging.getLogger("app")

ASSETS = Path(__file__).resolve().parent / "assets"
DEFAULT_K = 24
# Searches running at once, over all endpoints together: a free CPU Space has 2 cores; the rest wait in the queue.
SEARCH_CONCURRENCY = 2
QUEUE_SIZE = 64
# Uploaded photos are swept every minute once older than 10 minutes (UploadSweeper): a page re-runs its last search
# with the same upload when a filter or slider changes. They are not deleted right after a request because Gradio
# stores uploads at content-addressed paths that identical concurrent uploads share.
UPLOAD_SWEEP = (60, 600)
# Gradio keeps a state object per browser or API session (a copy of every component's config) for an hour after the
# visitor leaves and forgets the oldest beyond this many; its default of 10,000 lets memory grow with every visitor
# of a busy Space (docs/RELIABILITY.md).
SESSION_CAPACITY = 500
# glibc gives every thread that allocates its own malloc arena (up to 8 per core); Gradio's worker threads each
# fragment one, which doubled the load test's memory growth (docs/RELIABILITY.md). MALLOC_ARENA_MAX, if set, wins.
MALLOC_ARENAS = 2
M_ARENA_MAX = -8  # glibc's mallopt() parameter number
UI_FILTERS = {
    "gender": "Gender",
    "masterCategory": "Category",
    "articleType": "Article type",
    "baseColour": "Colour",
    "season": "Season",
    "usage": "Usage",
}
DETAIL_LABELS = {
    "id": "Product id",
    "gender": "Gender",
    "masterCategory": "Category",
    "subCategory": "Sub-category",
    "articleType": "Article type",
    "baseColour": "Colour",
    "season": "Season",
    "year": "Year",
    "usage": "Usage",
}
EXAMPLE_QUERIES = [
    "black leather boots for men",
    "red summer dress",
    "blue denim jeans",
    "white sneakers",
    "brown leather handbag",
    "gold watch for women",
    "striped formal shirt",
]
EXAMPLE_IMAGES = ["red-tshirt.jpg", "yellow-dress.jpg", "black-boots.jpg", "brown-handbag.jpg", "gold-watch.jpg"]
EXAMPLE_COMPOSED = [
    ("red-tshirt.jpg", "same style but in blue"),
    ("yellow-dress.jpg", "black, for a party"),
    ("white-sneakers.jpg", "leather boots"),
    ("blue-jeans.jpg", "shorts"),
]
PLACEHOLDER = "no-photo.jpg"
# On a phone the results sit below the query: bring them into view after a search (desktop pages do not move).
SCROLL_TO_RESULTS_JS = """() => {
  const status = document.querySelector("#status");
  if (status && status.getBoundingClientRect().top > window.innerHeight * 0.6) {
    status.scrollIntoView({ behavior: "smooth" });
  }
}"""
MARKDOWN_SYNTAX = re.compile(r"([\\`*_{}\[\]()#+\-.!|~])")
BROWSER_FORMATS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp", "GIF": "gif"}
THEME = gr.themes.Soft(primary_hue="rose", secondary_hue="slate", radius_size="md")
CSS_FILE = ASSETS / "app.css"


@dataclass(frozen=True)
class Query:
    """What the page searched for last, so that changing the filters or the number of results re-runs it."""

    kind: str  # "text", "image", "composed" or "similar"
    text: str = ""
    image: str | None = None
    image_weight: float = DEFAULT_IMAGE_WEIGHT
    semantic_weight: float = DEFAULT_SEMANTIC_WEIGHT
    product_id: int | None = None

    def run(self, engine: SearchEngine, k: int, filters: dict[str, list[str]]) -> SearchResponse:
        if self.kind == "text":
            return engine.search_text(self.text, k, filters, self.semantic_weight)
        if self.kind == "image":
            return engine.search_image(self.image, k, filters)
        if self.kind == "composed":
            return engine.search_composed(self.image, self.text, self.image_weight, k, filters)
        return engine.more_like_this(self.product_id, k, filters)

    def describe(self, engine: SearchEngine) -> str:
        if self.kind == "text":
            mix = "" if self.semantic_weight == 1.0 else f" (meaning weight {self.semantic_weight:.2f})"
            return f"for “{self.text.strip()[:80]}”{mix}"
        if self.kind == "image":
            return "similar to your photo"
        if self.kind == "composed":
            text = self.text.strip()[:80]
            return f"for your photo + “{text}” (photo weight {self.image_weight:.2f})" if text else "for your photo"
        return f"like “{engine.product(self.product_id)[NAME_COLUMN]}”"


def as_markdown_text(text: str) -> str:
    """Text (e.g. a visitor's query) shown in Markdown exactly as typed: HTML and Markdown syntax escaped."""
    return MARKDOWN_SYNTAX.sub(r"\\\1", html.escape(text))


def uploaded_path(payload: FileData | dict | None) -> str:
    """The server path of an uploaded image; only files Gradio received as uploads are accepted, so a client
    cannot make the app read other files on the server."""
    path = payload.get("path") if isinstance(payload, dict) else getattr(payload, "path", None)
    if not path:
        raise InvalidImageError("No image was given. Upload, paste or take a photo first.")
    resolved = Path(path).resolve()
    if not resolved.is_relative_to(Path(get_upload_folder()).resolve()):
        raise InvalidImageError(
            "Images must be uploaded as files (with gradio_client: handle_file('photo.jpg')); server paths are "
            "not accepted."
        )
    return str(resolved)


def explained(escape: bool) -> Callable[[Callable], Callable]:
    """Turn search errors into gr.Error with the engine's human message (HTML-escaped for the page), and any
    unexpected failure into a logged, generic gr.Error: visitors and API clients never see a stack trace."""

    def decorate(function: Callable) -> Callable:
        @functools.wraps(function)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            try:
                return function(*args, **kwargs)
            except SearchError as error:
                message = html.escape(str(error)) if escape else str(error)
                raise gr.Error(message, print_exception=False) from error
            except gr.Error:
                raise
            except Exception as error:
                logger.exception("Unexpected error in %s", function.__name__)
                raise gr.Error("Something went wrong on the server (it was logged). Please try again.") from error

        return wrapper

    return decorate


class ProductImages:
    """Product photos as files in Gradio's upload folder, which Gradio serves: each product's stored image is
    written once as stored (no re-encoding), named by its product id, so no user input ever becomes a path."""

    def __init__(self, engine: SearchEngine, upload_folder: Path) -> None:
        self.engine = engine
        self.folder = upload_folder / f"products-{engine.fingerprint}"
        self._paths: dict[int, str] = {}

    def path(self, product_id: int) -> str:
        """The file of the product's photo (a placeholder when the catalog has none or it cannot be read)."""
        known = self._paths.get(product_id)
        if known and Path(known).is_file():
            return known
        data = self.engine.product_photo_bytes(product_id)
        path = self._write(str(product_id), data) if data else None
        self._paths[product_id] = path or self._placeholder()
        return self._paths[product_id]

    def _write(self, stem: str, data: bytes) -> str | None:
        """Write bytes browsers can show as they are; other formats are converted to PNG; undecodable -> None."""
        try:
            image_format = Image.open(io.BytesIO(data)).format
        except (UnidentifiedImageError, OSError):
            return None
        if image_format not in BROWSER_FORMATS:
            try:
                buffer = io.BytesIO()
                decode_image(data).save(buffer, format="PNG")
            except InvalidImageError:
                return None
            data, image_format = buffer.getvalue(), "PNG"
        return self._file(f"{stem}.{BROWSER_FORMATS[image_format]}", data)

    def _placeholder(self) -> str:
        return self._file(PLACEHOLDER, (ASSETS / PLACEHOLDER).read_bytes())

    def _file(self, name: str, data: bytes) -> str:
        target = self.folder / name
        if not target.is_file():
            self.folder.mkdir(parents=True, exist_ok=True)
            staging = self.folder / f"{name}.{uuid.uuid4().hex}.part"
            staging.write_bytes(data)
            staging.replace(target)
        return str(target)


class UploadSweeper:
    """Deletes the files Gradio keeps for requests (uploads, result copies) once older than `age` seconds.

    It replaces Gradio's `delete_cache`, whose sweep walks Gradio's live file sets in a worker thread: a request
    adding a file at that moment raises "Set changed size during iteration" and ends that sweep for good (seen
    under the load test). This one walks snapshots of the sets and keeps running after any error.
    """

    def __init__(self, demo: gr.Blocks, every: float, age: float) -> None:
        self.demo, self.every, self.age = demo, every, age
        self._stop = threading.Event()

    def start(self) -> None:
        """Sweep every `every` seconds in a daemon thread until `stop()` or the server closes."""
        threading.Thread(target=self._run, name="upload-sweeper", daemon=True).start()

    def stop(self) -> None:
        self._stop.set()

    def sweep(self) -> int:
        """Delete the expired files once; returns how many were deleted."""
        keep = set().union(*(getattr(block, "keep_in_cache", set()) for block in self.demo.blocks.values()))
        cutoff = time.time() - self.age
        deleted = 0
        for files in list(self.demo.temp_file_sets):
            for name in list(files):
                if name in keep:
                    continue
                try:
                    if os.lstat(name).st_ctime > cutoff:
                        continue
                    os.remove(name)
                    deleted += 1
                except FileNotFoundError:
                    pass
                files.discard(name)
        return deleted

    def _run(self) -> None:
        while not self._stop.wait(self.every) and self.demo.is_running:
            try:
                deleted = self.sweep()
            except Exception:  # the sweep must outlive any one failure
                logger.exception("Upload sweep failed; trying again in %s s", self.every)
                continue
            if deleted:
                logger.info("Deleted %d expired upload and result files", deleted)


def filters_from(values: Sequence[list[str] | None]) -> dict[str, list[str]]:
    """The filter dropdowns' selections as engine filters (empty selections constrain nothing)."""
    return {name: list(value) for name, value in zip(UI_FILTERS, values, strict=True) if value}


class SearchApp:
    """Connects the page and the client API to one engine; the API methods are the named endpoints."""

    def __init__(self, engine: SearchEngine) -> None:
        self.engine = engine
        self.images = ProductImages(engine, Path(get_upload_folder()))

    # The client API: every endpoint returns plain JSON; product images come as files gradio_client downloads.

    def search_text(
        self,
        text: str,
        k: int = DEFAULT_K,
        filters: dict[str, Any] | None = None,
        semantic_weight: float = DEFAULT_SEMANTIC_WEIGHT,
    ) -> dict[str, Any]:
        """Products matching a text description, best first; semantic_weight 1 = CLIP only, 0 = keywords only."""
        return self._json(self.engine.search_text(text, k, filters, semantic_weight))

    def search_image(
        self, image: FileData, k: int = DEFAULT_K, filters: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """Products that look like the image, best first."""
        return self._json(self.engine.search_image(uploaded_path(image), k, filters))

    def search_composed(
        self,
        image: FileData,
        text: str,
        image_weight: float = DEFAULT_IMAGE_WEIGHT,
        k: int = DEFAULT_K,
        filters: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Products like the image, changed as the text says; image_weight 0 = text only, 1 = image only."""
        return self._json(self.engine.search_composed(uploaded_path(image), text, image_weight, k, filters))

    def more_like_this(
        self, product_id: int, k: int = DEFAULT_K, filters: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """Products nearest to a catalog product (by its stored vector), the product itself excluded."""
        return self._json(self.engine.more_like_this(product_id, k, filters))

    def search_embedding(
        self, embedding: list[float], k: int = DEFAULT_K, filters: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """Products nearest to a raw embedding of the index's dimension (e.g. one returned by /embed)."""
        return self._json(self.engine.search_vector(embedding, k, filters))

    def embed(self, text: str | None = None, image: FileData | None = None) -> dict[str, Any]:
        """The normalised embedding of a text or of an image (give exactly one), in the index's space."""
        has_text = bool(text and text.strip())
        if has_text == (image is not None):
            raise InvalidQueryError("Give either a text or an image to embed, not both and not neither.")
        if has_text:
            vector, notices = self.engine.embed_text(text)
        else:
            vector, notices = self.engine.embed_image(uploaded_path(image)), []
        return {
            "embedding": [float(value) for value in vector],
            "dim": int(vector.shape[0]),
            "model": self.engine.model_id,
            "input": "text" if has_text else "image",
            "notices": notices,
        }

    def filter_choices(self) -> dict[str, list[str]]:
        """For each filterable field, the values present in this catalog."""
        return self.engine.filter_choices()

    def _json(self, response: SearchResponse) -> dict[str, Any]:
        return {
            "results": [
                {
                    "id": result.product_id,
                    "name": result.name,
                    "score": result.score,
                    "metadata": result.metadata,
                    "image": FileData(path=self.images.path(result.product_id)).model_dump(),
                }
                for result in response.results
            ],
            "notices": response.notices,
            "elapsed_ms": response.elapsed_ms,
        }

    # The page: each handler returns the gallery, the status line, the shown ids, the query and hides the details.

    def text_ui(self, text: str, semantic_weight: float, k: int, *filter_values: list[str]) -> tuple:
        return self.show(Query("text", text=text, semantic_weight=semantic_weight), k, *filter_values)

    def text_on_change(self, text: str, semantic_weight: float, k: int, *filter_values: list[str]) -> tuple:
        if not (text or "").strip():
            return self._unchanged()
        return self.text_ui(text, semantic_weight, k, *filter_values)

    def image_ui(self, image: dict | None, k: int, *filter_values: list[str]) -> tuple:
        if image is None:
            return self._unchanged()
        return self.show(Query("image", image=uploaded_path(image)), k, *filter_values)

    def composed_ui(
        self, image: dict | None, text: str, image_weight: float, k: int, *filter_values: list[str]
    ) -> tuple:
        query = Query("composed", text=text or "", image=uploaded_path(image), image_weight=image_weight)
        return self.show(query, k, *filter_values)

    def composed_on_change(
        self, image: dict | None, text: str, image_weight: float, k: int, *filter_values: list[str]
    ) -> tuple:
        if image is None:
            return self._unchanged()
        return self.composed_ui(image, text, image_weight, k, *filter_values)

    def similar_ui(self, product_id: int | None, k: int, *filter_values: list[str]) -> tuple:
        if product_id is None:
            raise InvalidQueryError("Select a product in the results first.")
        return self.show(Query("similar", product_id=int(product_id)), k, *filter_values)

    def rerun_ui(self, query: Query | None, k: int, *filter_values: list[str]) -> tuple:
        if query is None:
            return self._unchanged()
        return self.show(query, k, *filter_values)

    def show(self, query: Query, k: int, *filter_values: list[str]) -> tuple:
        filters = filters_from(filter_values)
        response = query.run(self.engine, k, filters)
        for notice in response.notices:
            (gr.Warning if not response.results else gr.Info)(html.escape(notice))
        if not response.results and not response.notices:
            gr.Warning("Nothing found. Try other words, another photo or fewer filters.")
        gallery = [
            (
                self.images.path(result.product_id),
                f"{result.name or result.metadata['articleType']} · {result.score:.2f}",
            )
            for result in response.results
        ]
        status = f"**{len(response.results)} results** {as_markdown_text(query.describe(self.engine))}"
        if filters:
            chosen = "; ".join(f"{UI_FILTERS[name]}: {', '.join(values)}" for name, values in filters.items())
            status += f" · {as_markdown_text(chosen)}"
        status += f" · {response.elapsed_ms:.0f} ms"
        return gallery, status, response.ids, query, gr.Row(visible=False)

    def details_ui(self, ids: list[int], event: gr.SelectData) -> tuple:
        product_id = ids[event.index]
        metadata = self.engine.product(product_id)
        rows = "".join(
            f"<tr><th>{label}</th><td>{html.escape(str(metadata.get(name) or '—'))}</td></tr>"
            for name, label in DETAIL_LABELS.items()
        )
        image = self.images.path(product_id)
        heading = f"<h3>{html.escape(metadata[NAME_COLUMN] or str(product_id))}</h3>"
        return gr.Row(visible=True), image, f"{heading}<table class='product-details'>{rows}</table>", product_id

    @staticmethod
    def _unchanged() -> tuple:
        return (gr.skip(),) * 5


def model_label(model_id: str) -> str:
    """A Hub model as a link to its card; a local model folder by its name only (its path means nothing here)."""
    if looks_like_repo_id(model_id) and not Path(model_id).exists():
        return f"[{model_id}](https://huggingface.co/{model_id})"
    return f"`{html.escape(Path(model_id).name)}`"


def build_demo(engine: SearchEngine) -> gr.Blocks:
    """The page and the named API endpoints for one engine."""
    app = SearchApp(engine)
    choices = engine.filter_choices()
    ui_errors, api_errors = explained(escape=True), explained(escape=False)
    with gr.Blocks(title="Fashion product search", analytics_enabled=False) as demo:
        gr.Markdown(
            "# Fashion product search\n"
            f"Search **{len(engine.products):,} products** by words, by a photo, or by a photo plus words that "
            f"change it. Model: {model_label(engine.model_id)}. Select a result to see its details and "
            "find more like it.",
            elem_id="header",
        )
        last_query = gr.State(None)
        shown_ids = gr.State([])
        selected_id = gr.State(None)
        with gr.Row(equal_height=False):
            with gr.Column(scale=2, min_width=320):
                with gr.Tabs():
                    with gr.Tab("Text", id="text"):
                        query = gr.Textbox(
                            label="Describe what you are looking for",
                            placeholder="e.g. black leather boots for men",
                            max_lines=2,
                            elem_id="text-query",
                        )
                        semantic_weight = gr.Slider(
                            0,
                            1,
                            value=DEFAULT_SEMANTIC_WEIGHT,
                            step=0.05,
                            label="Match: exact words ← → meaning",
                            info="Left ranks products whose name or labels contain your words; right ranks by what "
                            "the words mean (finds similar items even with other words).",
                            elem_id="semantic-weight",
                        )
                        text_button = gr.Button("Search", variant="primary", elem_id="text-search")
                        text_examples = gr.Examples(EXAMPLE_QUERIES, inputs=[query], label="Examples (click to search)")
                    with gr.Tab("Image", id="image"):
                        image = gr.Image(
                            label="Upload, paste or take a photo",
                            sources=["upload", "webcam", "clipboard"],
                            type="filepath",
                            height=280,
                            elem_id="image-query",
                        )
                        gr.Examples([[str(ASSETS / name)] for name in EXAMPLE_IMAGES], inputs=[image], label="Examples")
                    with gr.Tab("Image + Text", id="composed"):
                        composed_image = gr.Image(
                            label="A photo to start from",
                            sources=["upload", "webcam", "clipboard"],
                            type="filepath",
                            height=240,
                            elem_id="composed-image",
                        )
                        composed_text = gr.Textbox(
                            label="What to change",
                            placeholder="e.g. same style but in red",
                            max_lines=2,
                            elem_id="composed-text",
                        )
                        image_weight = gr.Slider(
                            0,
                            1,
                            value=DEFAULT_IMAGE_WEIGHT,
                            step=0.05,
                            label="Balance: text ← → photo",
                            info="Left follows your words more, right stays closer to the photo.",
                            elem_id="image-weight",
                        )
                        composed_button = gr.Button("Search", variant="primary", elem_id="composed-search")
                        gr.Examples(
                            [[str(ASSETS / name), text] for name, text in EXAMPLE_COMPOSED],
                            inputs=[composed_image, composed_text],
                            label="Examples",
                        )
                with gr.Accordion("Filters and number of results", open=False, elem_id="filters"):
                    k = gr.Slider(1, MAX_K, value=DEFAULT_K, step=1, label="Number of results", elem_id="k")
                    filters = [
                        gr.Dropdown(choices[name], multiselect=True, label=label, elem_id=f"filter-{name}")
                        for name, label in UI_FILTERS.items()
                    ]
            with gr.Column(scale=3, min_width=320):
                status = gr.Markdown("Results appear here.", elem_id="status")
                with gr.Row(visible=False, equal_height=False, elem_id="details") as details:
                    detail_image = gr.Image(
                        show_label=False,
                        interactive=False,
                        buttons=[],
                        height=240,
                        min_width=160,
                        elem_id="detail-image",
                    )
                    with gr.Column(min_width=240):
                        detail_info = gr.HTML(elem_id="detail-info")
                        similar_button = gr.Button("More like this", variant="primary", elem_id="more-like-this")
                gallery = gr.Gallery(
                    label="Results",
                    show_label=False,
                    columns=4,
                    allow_preview=False,
                    object_fit="contain",
                    buttons=[],
                    elem_id="results",
                )

        outputs = [gallery, status, shown_ids, last_query, details]
        search = {"outputs": outputs, "concurrency_id": "search", "api_visibility": "private"}
        text_inputs = [query, semantic_weight, k, *filters]
        gr.on([text_button.click, query.submit], ui_errors(app.text_ui), text_inputs, **search)
        text_examples.load_input_event.then(ui_errors(app.text_ui), text_inputs, **search)
        semantic_weight.input(ui_errors(app.text_on_change), text_inputs, trigger_mode="always_last", **search)
        image.change(ui_errors(app.image_ui), [image, k, *filters], preprocess=False, **search)
        composed_inputs = [composed_image, composed_text, image_weight, k, *filters]
        gr.on(
            [composed_button.click, composed_text.submit],
            ui_errors(app.composed_ui),
            composed_inputs,
            preprocess=False,
            **search,
        )
        gr.on(
            [composed_image.change, image_weight.input],
            ui_errors(app.composed_on_change),
            composed_inputs,
            preprocess=False,
            trigger_mode="always_last",
            **search,
        )
        similar_button.click(ui_errors(app.similar_ui), [selected_id, k, *filters], **search)
        gr.on(
            [k.release, *(dropdown.change for dropdown in filters)],
            ui_errors(app.rerun_ui),
            [last_query, k, *filters],
            trigger_mode="always_last",
            **search,
        )
        status.change(None, js=SCROLL_TO_RESULTS_JS)
        gallery.select(
            ui_errors(app.details_ui),
            [shown_ids],
            [details, detail_image, detail_info, selected_id],
            api_visibility="private",
        )

        for endpoint in (
            app.search_text,
            app.search_image,
            app.search_composed,
            app.more_like_this,
            app.search_embedding,
            app.embed,
        ):
            gr.api(api_errors(endpoint), api_name=endpoint.__name__, concurrency_id="search")
        gr.api(api_errors(app.filter_choices), api_name="filter_choices")
    return demo


def launch(
    demo: gr.Blocks, host: str, port: int, block: bool = True, upload_sweep: tuple[float, float] = UPLOAD_SWEEP
) -> str:
    """Serve the demo with the queue, upload limits and upload sweep (every, age in seconds); returns its URL
    (only after shutdown when block=True)."""
    demo.queue(default_concurrency_limit=SEARCH_CONCURRENCY, max_size=QUEUE_SIZE)
    _, url, _ = demo.launch(
        server_name=host,
        server_port=port,
        prevent_thread_lock=True,
        max_file_size=MAX_IMAGE_BYTES,
        state_session_capacity=SESSION_CAPACITY,
        theme=THEME,
        css_paths=CSS_FILE,
        quiet=not block,
    )
    sweeper = UploadSweeper(demo, *upload_sweep)
    sweeper.start()
    if block:
        try:
            demo.block_thread()
        finally:
            sweeper.stop()
    return url


def limit_malloc_arenas(arenas: int = MALLOC_ARENAS) -> bool:
    """Cap glibc's malloc arenas for threads created from now on; False where that is not glibc or MALLOC_ARENA_MAX
    is set (the operator's setting is kept)."""
    if os.environ.get("MALLOC_ARENA_MAX") or not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL("libc.so.6")
        return bool(libc.mallopt(M_ARENA_MAX, arenas))
    except (OSError, AttributeError):
        return False


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--index",
        default=os.environ.get("SEARCH_INDEX"),
        help="index bundle folder or Hub dataset repo id (env SEARCH_INDEX); default: build a small one once",
    )
    parser.add_argument(
        "--revision",
        default=os.environ.get("SEARCH_INDEX_REVISION"),
        help="Hub revision of --index (env SEARCH_INDEX_REVISION)",
    )
    parser.add_argument(
        "--host", default=os.environ.get("GRADIO_SERVER_NAME", "127.0.0.1"), help="env GRADIO_SERVER_NAME"
    )
    parser.add_argument(
        "--port", type=int, default=os.environ.get("GRADIO_SERVER_PORT", "7860"), help="env GRADIO_SERVER_PORT"
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Load the index (or the cached default one), then serve until stopped; returns the process exit code."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    args = parse_args(argv)
    limit_malloc_arenas()
    try:
        engine = SearchEngine.load(args.index or ensure_default_bundle(), revision=args.revision)
    except SearchError as error:
        logger.error("%s", error)
        return 1
    launch(build_demo(engine), args.host, args.port)
    return 0


if __name__ == "__main__":
    sys.exit(main())

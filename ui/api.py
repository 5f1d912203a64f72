"""The client API: named endpoints returning plain JSON; product images come as files gradio_client downloads."""

import dataclasses
from typing import Any

import gradio as gr
from gradio import FileData

from search import (
    DEFAULT_IMAGE_WEIGHT,
    DEFAULT_K,
    InvalidQueryError,
    SearchEngine,
    SearchResponse,
)
from ui.messages import api_errors
from ui.photo_files import ProductImages
from ui.settings import COLLAPSE_SIMILAR, SEARCH_GROUP
from ui.uploads import uploaded_path


class SearchApi:
    """One engine's endpoints; each public method is the endpoint of its name, its arguments the API's."""

    def __init__(self, engine: SearchEngine, photos: ProductImages) -> None:
        self.engine = engine
        self.photos = photos

    def search_text(
        self,
        text: str,
        k: int = DEFAULT_K,
        filters: dict[str, Any] | None = None,
        semantic_weight: float | None = None,
        collapse_similar: bool = COLLAPSE_SIMILAR,
        translate: bool = True,
        correct: bool = True,
    ) -> dict[str, Any]:
        """Products matching a text description, best first; semantic_weight 1 = CLIP only, 0 = keywords only,
        none = the query decides (keywords lead when the catalog knows all its words, meaning leads when not;
        "semantic_weight" in the response says which). collapse_similar (default true, as on the page) folds
        near-identical and same-name results into one ("similar" lists the folded ids); false returns every
        product. A text in another language is searched by its English translation unless translate is false;
        misspelt words are corrected ("correction") unless correct is false. "match_count" counts the products
        matching the text's words or the attributes it names ("recognised", ranked first); each result says
        whether it is one of them ("matched"); "facets" lists each filter's values among them with counts."""
        response = self.engine.search_text(
            text, k, filters, semantic_weight, translate=translate, collapse_similar=collapse_similar, correct=correct
        )
        return self._json(response)

    def search_image(
        self,
        image: FileData,
        k: int = DEFAULT_K,
        filters: dict[str, Any] | None = None,
        collapse_similar: bool = COLLAPSE_SIMILAR,
    ) -> dict[str, Any]:
        """Products that look like the image, best first, and "labels": the guessed article type and colour of
        the photo, each with its probability ("score") and whether it is clearly ahead ("confident")."""
        return self._json(self.engine.search_image(uploaded_path(image), k, filters, collapse_similar))

    def search_composed(
        self,
        image: FileData,
        text: str,
        image_weight: float = DEFAULT_IMAGE_WEIGHT,
        k: int = DEFAULT_K,
        filters: dict[str, Any] | None = None,
        collapse_similar: bool = COLLAPSE_SIMILAR,
        translate: bool = True,
        semantic_weight: float | None = None,
        correct: bool = True,
    ) -> dict[str, Any]:
        """Products like the image, changed as the text says; image_weight 0 = text only, 1 = image only.
        semantic_weight weighs the text's meaning against its exact words as in /search_text (none = the text
        decides). A text in another language is searched by its English translation unless translate is false;
        its misspelt words are corrected unless correct is false (as in /search_text)."""
        response = self.engine.search_composed(
            uploaded_path(image),
            text,
            image_weight,
            k,
            filters,
            semantic_weight,
            translate=translate,
            collapse_similar=collapse_similar,
            correct=correct,
        )
        return self._json(response)

    def more_like_this(
        self,
        product_id: int,
        k: int = DEFAULT_K,
        filters: dict[str, Any] | None = None,
        collapse_similar: bool = COLLAPSE_SIMILAR,
    ) -> dict[str, Any]:
        """Products nearest to a catalog product (by its stored vector), the product itself excluded."""
        return self._json(self.engine.more_like_this(product_id, k, filters, collapse_similar))

    def search_embedding(
        self,
        embedding: list[float],
        k: int = DEFAULT_K,
        filters: dict[str, Any] | None = None,
        collapse_similar: bool = COLLAPSE_SIMILAR,
    ) -> dict[str, Any]:
        """Products nearest to a raw embedding of the index's dimension (e.g. one returned by /embed)."""
        return self._json(self.engine.search_vector(embedding, k, filters, collapse_similar=collapse_similar))

    def embed(self, text: str | None = None, image: FileData | None = None) -> dict[str, Any]:
        """The normalised embedding of a text or of an image (give exactly one), in the index's space."""
        if text is not None and not isinstance(text, str):
            raise InvalidQueryError(f"The text must be a string, got {type(text).__name__}.")
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
        """Results, labels, notices and time; for a text, the language it was read in (code, English name,
        confidence; null without letters or without the language step), the text searched and whether that is a
        translation, the spelling correction, the attributes recognised, the balance used, how many products
        match, and the facets."""
        text = response.query_text
        language = text.language if text is not None else None
        correction = response.correction
        return {
            "results": [
                {
                    "id": result.product_id,
                    "name": result.name,
                    "score": result.score,
                    "metadata": result.metadata,
                    "image": FileData(path=self.photos.of(result)).model_dump(),
                    "similar": list(result.similar),
                    "matched": result.matched,
                }
                for result in response.results
            ],
            "labels": {guess.field: guess.as_dict() for guess in response.labels},
            "notices": list(response.notices),
            "elapsed_ms": response.elapsed_ms,
            "language": dataclasses.asdict(language) if language is not None else None,
            "searched_text": text.searched if text is not None else None,
            "translated": bool(text and text.translated),
            "correction": None
            if correction is None
            else {
                "typed": correction.typed,
                "searched": correction.searched,
                "changes": [list(change) for change in correction.changes],
            },
            "recognised": [dataclasses.asdict(item) for item in response.recognised],
            "semantic_weight": response.semantic_weight,
            "match_count": response.match_count,
            "facets": {name: [list(item) for item in values] for name, values in response.facets.items()},
        }


def register_endpoints(api: SearchApi) -> None:
    """Inside a gr.Blocks: the named endpoints, the searches sharing the page's concurrency group."""
    for endpoint in (
        api.search_text,
        api.search_image,
        api.search_composed,
        api.more_like_this,
        api.search_embedding,
        api.embed,
    ):
        gr.api(api_errors(endpoint), api_name=endpoint.__name__, concurrency_id=SEARCH_GROUP)
    gr.api(api_errors(api.filter_choices), api_name="filter_choices")

"""The dataset card (README.md) written into every bundle, so a Hub repo of it explains itself."""

from __future__ import annotations

from search.bundle.manifest import Manifest


def dataset_card(manifest: Manifest) -> str:
    """Markdown with YAML front matter: model, source dataset, counts, index type and how to load it."""
    model, dataset, index = manifest.model, manifest.dataset, manifest.index
    revision = dataset.revision or "not recorded"
    model_revision = model.revision or "local folder"
    params = ", ".join(f"{key}={value}" for key, value in sorted(index.params.items())) or "none"
    keyword = manifest.components.keyword
    keyword_line = (
        f"- `{keyword.folder}/`: the BM25 keyword index (bm25s) over each product's {', '.join(keyword.fields)}.\n"
        if keyword
        else ""
    )
    photos = manifest.components.photos
    vectors_line = (
        "- `vectors.npy`: the exact vectors the IVF index re-ranks with (memory-mapped).\n"
        if index.type.startswith("ivf")
        else ""
    )
    photos_line = (
        f"- `{photos.folder}/`: the product photos, {photos.files} Arrow IPC file(s) of {photos.rows_per_file:,} rows "
        "in row order (memory-mapped).\n"
        if photos
        else ""
    )
    image_bytes = "" if photos else " and image bytes"
    onnx = manifest.components.onnx
    onnx_line = (
        f"- `{onnx.folder}/`: the model's text and image towers in ONNX (opset {onnx.opset}) for CPU inference.\n"
        if onnx
        else ""
    )
    content = manifest.components.content
    content_line = (
        f"- `{content.file}`: each product's content keys (digests of its photo, text and labels), so that a "
        "rebuild encodes only what changed.\n"
        if content
        else ""
    )
    files = f"{vectors_line}{photos_line}{keyword_line}{onnx_line}{content_line}"
    changes = f"| Changes | {manifest.changes.summary()} |\n" if manifest.changes else ""
    return f"""---
license: mit
pretty_name: Fashion product search index
tags:
- faiss
- clip
- image-retrieval
- fashion
size_categories:
- {_size_category(dataset.num_rows)}
---

# Fashion product search index

An index bundle for the fashion product search Space: CLIP-family embeddings of every product in a FAISS
index, the product metadata and images, and a manifest describing how it was built.

| | |
|---|---|
| Model | `{model.id}` (revision `{model_revision}`), {model.dim}-d vectors |
| Source dataset | `{dataset.id}`, split `{dataset.split}`, revision `{revision}` |
| Products | {dataset.num_rows:,} |
| Index | FAISS `{index.type}`, inner product on L2-normalised vectors (parameters: {params}) |
| Product vector | {index.document} |
| Built | {manifest.created_at} with code {manifest.code_version} |
{changes}
## Files
- `index.faiss`: the FAISS index; vector *i* belongs to row *i* of the products table.
- `products.parquet`: product metadata (`id`, labels, `year`, `productDisplayName`){image_bytes}.
{files}- `manifest.json`: build settings and the sha256 of every file (checked when the bundle is loaded).

## Load it
```python
from search import SearchEngine

engine = SearchEngine.load("<this repo id>")  # or a local folder
for hit in engine.search_text("black leather boots for men", k=5).results:
    print(hit.score, hit.name)
```
"""


def _size_category(rows: int) -> str:
    for limit, label in ((1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"), (1_000_000, "100K<n<1M")):
        if rows < limit:
            return label
    return "1M<n<10M"

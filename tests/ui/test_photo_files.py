"""Product photos as files: a result's read at its own row, a product's by id; written once as stored and named by
product id, a placeholder when there is none, other formats converted for browsers."""

import gc
from pathlib import Path

import pytest
from gradio.utils import get_upload_folder, is_static_file
from PIL import Image

from ui.photo_files import ProductImages
from ui.settings import ASSETS, PLACEHOLDER


def test_photos_are_written_once_as_stored_in_the_instances_folder(engine, photos, tmp_path):
    result = engine.search_text("shirt", k=1).results[0]
    path = Path(photos.of(result))
    assert path.read_bytes() == engine.product_photo_bytes(result.product_id)
    assert path.stem == str(result.product_id) and path.parent == tmp_path.resolve()
    written = path.stat().st_mtime_ns
    assert photos.of(result) == str(path) and path.stat().st_mtime_ns == written
    assert photos.photo(result.product_id) == str(path)


def test_a_results_photo_is_read_at_its_row_without_looking_its_id_up(engine, photos, monkeypatch):
    result = engine.search_text("dress", k=1).results[0]
    monkeypatch.setattr(engine.products, "row_of", lambda product_id: pytest.fail("no id lookup"))
    assert Path(photos.of(result)).read_bytes() == engine.products.image_bytes(result.row)


def test_each_instance_serves_photos_from_a_folder_of_its_own_outside_the_uploads(engine):
    first, second = ProductImages(engine), ProductImages(engine)
    result = engine.search_text("shirt", k=1).results[0]
    paths = [Path(images.of(result)) for images in (first, second)]
    assert paths[0].parent != paths[1].parent
    assert not any(path.is_relative_to(Path(get_upload_folder()).resolve()) for path in paths)
    assert all(is_static_file(str(path)) for path in paths), "served as they are, never copied into Gradio's cache"
    folder = first.folder
    del first
    gc.collect()
    assert not folder.exists(), "an instance's folder goes with it"


def test_a_deleted_photo_is_written_again(engine, photos):
    result = engine.search_text("dress", k=1).results[0]
    path = Path(photos.of(result))
    path.unlink()
    assert Path(photos.of(result)).read_bytes() == engine.product_photo_bytes(result.product_id)


def test_product_images_fall_back_to_a_placeholder_and_convert_other_formats(engine, tmp_path, monkeypatch):
    images = ProductImages(engine, tmp_path)
    first, second = engine.search_text("shirt", k=2).results
    tiff = tmp_path / "photo.tiff"
    engine.product_image(second.product_id).save(tiff)
    monkeypatch.setattr(engine, "result_photo_bytes", lambda result: None)
    assert Path(images.of(first)).read_bytes() == (ASSETS / PLACEHOLDER).read_bytes()
    monkeypatch.setattr(engine, "result_photo_bytes", lambda result: tiff.read_bytes())
    converted = Path(images.of(second))
    assert converted.name == f"{second.product_id}.png" and converted.parent == images.folder
    assert Image.open(converted).format == "PNG"


def test_undecodable_photos_get_the_placeholder(engine, photos, monkeypatch):
    result = engine.search_text("watch", k=1).results[0]
    monkeypatch.setattr(engine, "result_photo_bytes", lambda result: b"not an image")
    assert Path(photos.of(result)).read_bytes() == (ASSETS / PLACEHOLDER).read_bytes()


def test_photo_is_none_without_a_readable_photo(engine, photos, monkeypatch):
    monkeypatch.setattr(engine, "product_photo_bytes", lambda product_id: b"not an image")
    other = engine.search_text("dress", k=1).ids[0]
    assert photos.photo(other) is None

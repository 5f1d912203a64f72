"""Product photos as files: written once as stored and named by product id, a placeholder when there is none,
other formats converted for browsers."""

import gc
from pathlib import Path

from gradio.utils import get_upload_folder, is_static_file
from PIL import Image

from ui.photo_files import ProductImages
from ui.settings import ASSETS, PLACEHOLDER


def test_photos_are_written_once_as_stored_in_the_instances_folder(engine, photos, tmp_path):
    product_id = engine.search_text("shirt", k=1).ids[0]
    path = Path(photos.path(product_id))
    assert path.read_bytes() == engine.product_photo_bytes(product_id)
    assert path.stem == str(product_id) and path.parent == tmp_path.resolve()
    written = path.stat().st_mtime_ns
    assert photos.path(product_id) == str(path) and path.stat().st_mtime_ns == written


def test_each_instance_serves_photos_from_a_folder_of_its_own_outside_the_uploads(engine):
    first, second = ProductImages(engine), ProductImages(engine)
    product_id = engine.search_text("shirt", k=1).ids[0]
    paths = [Path(images.path(product_id)) for images in (first, second)]
    assert paths[0].parent != paths[1].parent
    assert not any(path.is_relative_to(Path(get_upload_folder()).resolve()) for path in paths)
    assert all(is_static_file(str(path)) for path in paths), "served as they are, never copied into Gradio's cache"
    folder = first.folder
    del first
    gc.collect()
    assert not folder.exists(), "an instance's folder goes with it"


def test_a_deleted_photo_is_written_again(engine, photos):
    product_id = engine.search_text("dress", k=1).ids[0]
    path = Path(photos.path(product_id))
    path.unlink()
    assert Path(photos.path(product_id)).read_bytes() == engine.product_photo_bytes(product_id)


def test_product_images_fall_back_to_a_placeholder_and_convert_other_formats(engine, tmp_path, monkeypatch):
    images = ProductImages(engine, tmp_path)
    first, second = engine.search_text("shirt", k=2).results
    tiff = tmp_path / "photo.tiff"
    engine.product_image(second.product_id).save(tiff)
    monkeypatch.setattr(engine, "product_photo_bytes", lambda product_id: None)
    assert Path(images.path(first.product_id)).read_bytes() == (ASSETS / PLACEHOLDER).read_bytes()
    monkeypatch.setattr(engine, "product_photo_bytes", lambda product_id: tiff.read_bytes())
    converted = Path(images.path(second.product_id))
    assert converted.name == f"{second.product_id}.png" and converted.parent == images.folder
    assert Image.open(converted).format == "PNG"


def test_undecodable_photos_get_the_placeholder(engine, photos, monkeypatch):
    product_id = engine.search_text("watch", k=1).ids[0]
    monkeypatch.setattr(engine, "product_photo_bytes", lambda product_id: b"not an image")
    assert Path(photos.path(product_id)).read_bytes() == (ASSETS / PLACEHOLDER).read_bytes()


def test_photo_is_none_without_a_readable_photo(engine, photos, monkeypatch):
    product_id = engine.search_text("shirt", k=1).ids[0]
    assert photos.photo(product_id) == photos.path(product_id)
    monkeypatch.setattr(engine, "product_photo_bytes", lambda product_id: b"not an image")
    other = engine.search_text("dress", k=1).ids[0]
    assert photos.photo(other) is None and Path(photos.path(other)).name == PLACEHOLDER

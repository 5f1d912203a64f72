"""Uploaded images: only files in Gradio's upload folder are read, whatever path a client sends."""

from pathlib import Path

import pytest
from gradio import FileData
from gradio.utils import get_upload_folder

from search import InvalidImageError
from ui.uploads import uploaded_path, use_own_upload_folder


def test_uploads_are_accepted_as_dict_or_file_data(upload, photo):
    stored = upload(photo)
    assert uploaded_path(stored) == str(Path(stored["path"]).resolve())
    assert uploaded_path(FileData(path=stored["path"])) == str(Path(stored["path"]).resolve())


@pytest.mark.parametrize("payload", [None, {}, {"path": ""}, {"url": "http://example.com/a.jpg"}])
def test_a_missing_image_is_explained(payload):
    with pytest.raises(InvalidImageError, match="No image was given"):
        uploaded_path(payload)


@pytest.mark.parametrize(
    "path",
    ["/etc/hostname", str(Path(__file__)), f"{get_upload_folder()}/../../etc/hostname", "relative/photo.jpg"],
)
def test_server_paths_are_refused(path):
    with pytest.raises(InvalidImageError, match="must be uploaded as files"):
        uploaded_path({"path": path})


def test_a_link_out_of_the_upload_folder_is_refused(upload, photo):
    link = Path(upload(photo)["path"]).with_name("link.png")
    link.symlink_to("/etc/hostname")
    with pytest.raises(InvalidImageError, match="must be uploaded as files"):
        uploaded_path({"path": str(link)})


@pytest.mark.parametrize("payload", ["/etc/hostname", 7, ["photo.jpg"], {"path": ["a"]}, {"path": 3}])
def test_payloads_that_are_not_uploaded_files_are_refused_by_type(payload):
    with pytest.raises(InvalidImageError, match="must be uploaded as files"):
        uploaded_path(payload)


def test_each_process_gets_an_upload_folder_of_its_own(monkeypatch, tmp_path):
    monkeypatch.setenv("GRADIO_TEMP_DIR", str(tmp_path))
    first = use_own_upload_folder()
    assert first.parent == tmp_path and get_upload_folder() == str(first)
    monkeypatch.setenv("GRADIO_TEMP_DIR", str(tmp_path))
    second = use_own_upload_folder()
    assert second.parent == tmp_path and second != first

"""scripts/make_real_bundle.py on a small folder laid out like ../shared/data (photos named by id, KAGL ground-truth
files), generated here: the named products become a bundle through index_build.py, gender read from the names."""

from scripts.make_real_bundle import gender_from_name, main
from search import SearchEngine


def test_the_named_products_become_a_bundle_with_their_real_photos(shared_data, shared_names, tmp_path):
    assert main(["--data", str(shared_data), "--out", str(tmp_path / "real"), "--model", "clip-tiny"]) == 0
    engine = SearchEngine.load(tmp_path / "real" / "bundle")
    assert sorted(engine.products.ids.tolist()) == sorted(shared_names)
    for product_id, name in shared_names.items():
        product = engine.product(product_id)
        assert product["productDisplayName"] == name and product["gender"] == (gender_from_name(name) or "")
        assert (
            engine.product_photo_bytes(product_id)
            == (shared_data / "product-images" / f"{product_id}.jpg").read_bytes()
        )
    assert engine.model_id == str(tmp_path.resolve() / "real" / "clip-tiny-random")


def test_all_keeps_every_photo(shared_data, tmp_path):
    assert main(["--data", str(shared_data), "--out", str(tmp_path / "all"), "--model", "clip-tiny", "--all"]) == 0
    assert SearchEngine.load(tmp_path / "all" / "bundle").num_products == 6


def test_gender_is_read_from_the_name_where_it_says_it():
    assert gender_from_name("ADIDAS Women's Who Was That Yellow T-shirt") == "Women"
    assert gender_from_name("Puma Men Red Tshirt") == "Men"
    assert gender_from_name("Titan Silver Watch") is None and gender_from_name(None) is None


def test_a_folder_without_the_reference_data_is_refused(tmp_path, capsys):
    assert main(["--data", str(tmp_path), "--out", str(tmp_path / "out")]) == 2
    said = capsys.readouterr().err
    assert f"Reference data not found at {tmp_path / 'product-images'}, {tmp_path / 'kagl-ground-truth'}" in said

"""Language detection on real sentences and short queries, and on text no detector can read."""

from __future__ import annotations

import pytest

from search.language import ENGLISH, LANGUAGES, LanguageDetector

FOREIGN = [
    ("vi", "Tôi muốn mua một chiếc áo sơ mi màu đỏ cho chồng tôi."),
    ("vi", "áo sơ mi nam màu đỏ"),
    ("fr", "Je cherche une robe rouge pour l'été."),
    ("fr", "robe d'été rouge"),
    ("hi", "मैं अपने पति के लिए एक लाल शर्ट खरीदना चाहती हूँ।"),
    ("hi", "पुरुषों के लिए लाल शर्ट"),
    ("es", "Busco un vestido rojo para el verano."),
    ("es", "zapatillas blancas para mujer"),
    ("de", "Ich suche ein rotes Kleid für den Sommer."),
    ("de", "weiße Turnschuhe für Damen"),
    ("it", "Cerco un vestito rosso per l'estate."),
    ("pt", "Estou procurando um vestido vermelho para o verão."),
    ("tr", "Yaz için kırmızı bir elbise arıyorum."),
    ("ru", "Я ищу красное летнее платье."),
    ("zh", "我想买一件红色的夏季连衣裙。"),
    ("ja", "赤い夏のドレスを探しています。"),
    ("ko", "빨간 여름 원피스를 찾고 있어요."),
    ("ar", "أبحث عن فستان صيفي أحمر."),
    ("th", "ฉันกำลังมองหาชุดเดรสสีแดง"),
]
# Short English queries with brand names and loanwords: the ones detectors most often take for another language.
ENGLISH_QUERIES = [
    "I am looking for a red summer dress.",
    "black leather boots for men",
    "white sneakers",
    "navy blue polo",
    "kurta",
    "Puma Men Black Sports Shoes",
    "RED SHIRT FOR MEN",
]


@pytest.fixture(scope="module")
def detector() -> LanguageDetector:
    return LanguageDetector()


@pytest.mark.parametrize(("code", "text"), FOREIGN)
def test_names_the_language_of_real_sentences_and_queries(detector, code, text):
    found = detector.detect(text)
    assert found.code == code
    assert found.name == LANGUAGES[code]
    assert not found.is_english
    assert detector.min_confidence <= found.confidence <= 1.0


@pytest.mark.parametrize("text", ENGLISH_QUERIES)
def test_short_english_queries_stay_english(detector, text):
    found = detector.detect(text)
    assert found.is_english
    assert found.name == "English"


@pytest.mark.parametrize("text", ["", "   ", "👗👠👜", "🔥🔥", "123 456", "!!! ???", "42 — 7%"])
def test_text_without_letters_has_no_language(detector, text):
    assert detector.detect(text) is None


def test_mixed_text_is_named_by_its_main_language(detector):
    assert detector.detect("áo sơ mi nam màu đỏ size XL").code == "vi"
    assert detector.detect("weiße Turnschuhe für Damen, sneakers").code == "de"
    assert detector.detect("black leather boots for men, très chic").is_english


def test_emoji_around_words_do_not_change_the_language(detector):
    assert detector.detect("👗 robe d'été rouge 👗").code == "fr"
    assert detector.detect("🔥 white sneakers 🔥").is_english


def test_very_long_text_is_detected(detector):
    text = "Je cherche une robe rouge pour l'été, avec des manches courtes et une ceinture. " * 60
    assert len(text) > 4_000
    assert detector.detect(text).code == "fr"


def test_unsure_foreign_guess_is_reported_as_english(detector):
    """Below min_confidence the query is searched as English: a wrong translation would cost more."""
    lenient = LanguageDetector(min_confidence=0.0)
    strict = LanguageDetector(min_confidence=1.0)
    text = "chaussures de sport blanches"
    assert lenient.detect(text).code == "fr"
    assert lenient.detect(text).confidence < 1.0
    assert strict.detect(text).is_english


def test_only_the_given_languages_are_named():
    detector = LanguageDetector({"en": "English", "fr": "French"})
    assert detector.detect("weiße Turnschuhe für Damen").code in {"en", "fr"}
    assert detector.detect("robe d'été rouge").code == "fr"


def test_a_language_set_without_english_is_refused():
    with pytest.raises(ValueError, match="English"):
        LanguageDetector({"fr": "French"})


def test_unknown_language_codes_are_refused():
    with pytest.raises(ValueError, match="xx"):
        LanguageDetector({ENGLISH: "English", "xx": "Nowhere"})


@pytest.mark.parametrize("confidence", [-0.1, 1.5])
def test_confidence_outside_zero_one_is_refused(confidence):
    with pytest.raises(ValueError, match="min_confidence"):
        LanguageDetector(min_confidence=confidence)

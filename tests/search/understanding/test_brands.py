"""Brands read from real product names (KAGL's): before a gender word, or a shared first word grown while every
name goes on alike; precision first (no brand rather than a wrong one)."""

from search.understanding.brands import read_brands

# Real names of the Kaggle "Fashion Product Images" catalog (KAGL ground truth), with the brand a reader should see.
NAMES = {
    "Puma Men Faas 300 Blue Sports Shoes": "Puma",
    "Puma Women Balleracer Blue Shoe": "Puma",
    "United Colors of Benetton Men Light Blue Shirts": "United Colors of Benetton",
    "Gini and Jony Girl's Delma Blue Kidswear": "Gini and Jony",
    "Gini and Jony Boys Polo Black T-Shirt": "Gini and Jony",
    "Van Heusen Woman Black Skirt": "Van Heusen",
    "ADIDAS Women's Who Was That Yellow T-shirt": "ADIDAS",
    "ADIDAS Red Men Cap": "ADIDAS",
    "ADIDAS Blue Cap": "ADIDAS",
    "Lotus Herbals Lemon Pure Cleansing Milk": "Lotus Herbals",
    "Lotus Herbals Make-Up Hypnotica Eye Contour Definer Onyx 14": "Lotus Herbals",
    "Colorbar Aquamarine Eye Shadow 007": "Colorbar",
    "Colorbar Gold Dust Nail Lacquer 10": "Colorbar",
    "Red Tape Men Black Formal Shoes": "Red Tape",
    "Black Coffee Men Stripes Grey Slim Fit Shirt": "Black Coffee",
    "Jockey ELANCE Men Navy Blue Briefs 1004": "Jockey",
    "Jockey Women Assorted Lounge Pants": "Jockey",
    "Black Men Slim Fit Shirt": "",
    "Kalenji Kapteren 50 Black Pink": "",
    "Lencia Sterling Silver Pendant": "",
}
LABEL_WORDS = {"black", "blue", "grey", "pink", "red", "coffee", "brown", "silver", "shirts", "shoes", "cap", "skirt"}


def test_brands_of_real_names():
    assert read_brands(list(NAMES), LABEL_WORDS) == list(NAMES.values())


def test_a_brand_is_shown_as_the_catalog_writes_it_most_often():
    names = ["ADIDAS Men Blue Shoes", "ADIDAS Women Red Top", "Adidas Men Grey Socks"]
    assert read_brands(names, LABEL_WORDS) == ["ADIDAS"] * 3


def test_names_without_a_brand_and_missing_names():
    assert read_brands([None, "", "Shoes", "Black Men Shoes"], LABEL_WORDS) == ["", "", "", ""]

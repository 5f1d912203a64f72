"""The one hand-written table of query understanding: shopper words the catalog spells differently.

Everything else the reader knows comes from the loaded catalog (its words, labels and brands, see
search.understanding.vocabulary). A shopper types "sneakers", "hoodie", "sliders" or "ladies"; this catalog labels
such products "Casual Shoes", "Sweatshirts", "Flip Flops", "Women". Each entry names catalog labels as
(field, label); the build keeps only the labels the catalog has, so an entry whose products are absent is no
synonym of that catalog. Words the catalog already uses for a label (its label words, their singulars, the parts
of "Necklace and Chains") need no entry. Measured per entry on the shopper protocol (docs/EVALUATION.md).
"""

from __future__ import annotations

SHOES = (("articleType", "Casual Shoes"), ("articleType", "Sports Shoes"))
# shopper word (lower case, as typed) → the catalog labels it means.
SYNONYMS: dict[str, tuple[tuple[str, str], ...]] = {
    "sneakers": SHOES,
    "sneaker": SHOES,
    "trainers": (("articleType", "Sports Shoes"), ("articleType", "Casual Shoes")),
    "loafers": (("articleType", "Casual Shoes"),),
    "hoodie": (("articleType", "Sweatshirts"),),
    "hoodies": (("articleType", "Sweatshirts"),),
    "jumper": (("articleType", "Sweaters"),),
    "pullover": (("articleType", "Sweaters"),),
    "cardigan": (("articleType", "Sweaters"),),
    "sliders": (("articleType", "Flip Flops"),),
    "slides": (("articleType", "Flip Flops"),),
    "chappals": (("articleType", "Flip Flops"), ("articleType", "Sandals")),
    "pants": (("articleType", "Trousers"), ("articleType", "Track Pants")),
    "joggers": (("articleType", "Track Pants"),),
    "sweatpants": (("articleType", "Track Pants"),),
    "frock": (("articleType", "Dresses"),),
    "gown": (("articleType", "Dresses"),),
    "blouse": (("articleType", "Tops"),),
    "sari": (("articleType", "Sarees"),),
    "pumps": (("articleType", "Heels"),),
    "stilettos": (("articleType", "Heels"),),
    "purse": (("articleType", "Handbags"), ("articleType", "Clutches")),
    "tote": (("articleType", "Handbags"),),
    "shades": (("articleType", "Sunglasses"),),
    "scarf": (("articleType", "Scarves"),),
    "beanie": (("articleType", "Caps"),),
    "perfume": (("articleType", "Perfume and Body Mist"),),
    "fragrance": (("articleType", "Perfume and Body Mist"),),
    "deo": (("articleType", "Deodorant"),),
    "bikini": (("articleType", "Swimwear"),),
    "swimsuit": (("articleType", "Swimwear"),),
    "pyjamas": (("articleType", "Night suits"), ("articleType", "Lounge Pants")),
    "pajamas": (("articleType", "Night suits"), ("articleType", "Lounge Pants")),
    "nightie": (("articleType", "Nightdress"),),
    "underwear": (("subCategory", "Innerwear"),),
    "panties": (("articleType", "Briefs"),),
    "ladies": (("gender", "Women"),),
    "womens": (("gender", "Women"),),
    "gents": (("gender", "Men"),),
    "mens": (("gender", "Men"),),
    "kids": (("gender", "Boys"), ("gender", "Girls")),
    "children": (("gender", "Boys"), ("gender", "Girls")),
    "navy": (("baseColour", "Navy Blue"),),
    "golden": (("baseColour", "Gold"),),
    "multicolour": (("baseColour", "Multi"),),
    "autumn": (("season", "Fall"),),
    "gym": (("usage", "Sports"),),
    "workout": (("usage", "Sports"),),
    "office": (("usage", "Formal"),),
    "traditional": (("usage", "Ethnic"),),
}

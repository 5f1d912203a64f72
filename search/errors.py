"""Exceptions whose messages are meant to be shown to people as they are."""


class SearchError(Exception):
    """Base class: the message explains what went wrong and what to do about it."""


class InvalidQueryError(SearchError, ValueError):
    """A query argument (text, image, k, weight or filter) cannot be used."""


class InvalidImageError(InvalidQueryError):
    """An image cannot be decoded or is refused (empty, corrupt, too large)."""


class CatalogError(SearchError):
    """The product catalog is missing, unreadable or has the wrong schema."""


class ModelLoadError(SearchError):
    """The encoder model cannot be loaded or does not expose text and image features."""


class BundleError(SearchError):
    """An index bundle is missing, incomplete, tampered with or from an unknown format."""


class BundleMismatchError(BundleError):
    """An index bundle was built with another model or embedding dimension than the encoder."""


class TrainingError(SearchError):
    """A fine-tuning run cannot start or continue (bad settings, a foreign output folder, a bad checkpoint)."""


class HubError(SearchError):
    """The Hugging Face Hub could not be reached or refused an operation."""


class EngineError(SearchError):
    """The build engine cannot run as asked (Ray missing, its cluster unreachable, a device it lacks)."""

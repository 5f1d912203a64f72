"""What the page's handlers return: frozen, named views of what an event changes on the page, in plain values.

ui.page decides what to show; ui.layout.screen turns a view into Gradio updates of the components it names (one
place that knows the components), leaving every other part of the page as it is. A handler that changes nothing
returns None.
"""

from dataclasses import dataclass, field

from search import SearchResult
from ui.state import TabSearches


@dataclass(frozen=True)
class Tile:
    """One result in the gallery: its photo file and the caption under it."""

    photo: str
    caption: str


@dataclass(frozen=True)
class Chip:
    """A suggested filter shown as a button ("Tshirts · 82%", or "Red" that the query named): a click adds `value`
    to the `field` filter."""

    field: str
    value: str
    label: str


@dataclass(frozen=True)
class ResultsView:
    """A search shown: the tab's last searches (the shown one's tab in view), the results with their tiles, the
    status line (Markdown), the "About this search" fold (Markdown), the photo's label chips, the attributes the
    text names as chips, the language button and the button that searches the words as typed instead of their
    spelling correction (their labels, None = hidden), the filters it ran with (field -> values), each filter's
    choices for it ((label, value) pairs: its values among the search's candidates with their counts, most frequent
    first) and the link that opens it again (a URL query string, ui.links). Showing a search hides the details of
    an earlier selection and clears the tab's input message."""

    searches: TabSearches
    results: tuple[SearchResult, ...]
    tiles: tuple[Tile, ...]
    status: str
    about: str
    chips: tuple[Chip, ...]
    language: str | None
    filters: dict[str, list[str]]
    link: str
    recognised: tuple[Chip, ...] = ()
    correction: str | None = None
    choices: dict[str, tuple[tuple[str, str], ...]] = field(default_factory=dict)
    balance: float | None = None  # a text search's keyword/meaning balance, shown on the Text tab's slider


@dataclass(frozen=True)
class PromptView:
    """A tab in view before its first search (or after its photo was refused): no results, and what to do."""

    searches: TabSearches
    status: str
    link: str


@dataclass(frozen=True)
class MistakeView:
    """An input mistake, said in a calm line next to the tab's input; the results stay as they are unless `cleared`
    takes them back (a photo tab whose photo is no image: the photo is cleared, and the tab shows this prompt)."""

    tab: str
    message: str
    cleared: PromptView | None = None


@dataclass(frozen=True)
class DetailsView:
    """The selected result's details: its photo, its heading (HTML), its table and what its tile folds (HTML), and
    the result itself (for "More like this")."""

    result: SearchResult
    photo: str
    heading: str
    info: str


@dataclass(frozen=True)
class Inputs:
    """The page's inputs as a link sets them: the tab in view, its text and weights, the number of results and
    the filters."""

    tab: str
    text: str
    semantic_weight: float
    image_weight: float
    k: int
    filters: dict[str, list[str]]
    chosen_weight: float | None = None  # the balance the link sets; None: the words decide


@dataclass(frozen=True)
class OpenedView:
    """A link opened: the inputs set as it says and the view of what it asks for; `link` is the query string as
    opened, which the page's URL already shows."""

    inputs: Inputs
    view: ResultsView | PromptView | MistakeView
    link: str


View = ResultsView | PromptView | MistakeView | DetailsView | OpenedView

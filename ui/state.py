"""The page's state in a visitor's session: the search tab in view and the last search made in each tab."""

from dataclasses import dataclass, field

from search import Query

# The search tabs (their gr.Tab ids) and what the status line says while a tab has no search yet.
TAB_PROMPTS = {
    "text": "Describe what you are looking for, or pick an example.",
    "image": "Upload, paste or take a photo, or pick an example.",
    "composed": "Choose a photo, then say what to change.",
}
TABS = tuple(TAB_PROMPTS)


@dataclass(frozen=True)
class TabSearches:
    """The search tab in view and the last search made in each tab (a session's gr.State): filters re-run the
    search of the tab in view, never one from another tab."""

    tab: str = TABS[0]
    queries: dict[str, Query] = field(default_factory=dict)

    @property
    def current(self) -> Query | None:
        """The last search of the tab in view (None before its first)."""
        return self.queries.get(self.tab)

    def searched(self, tab: str, query: Query) -> "TabSearches":
        """`query` made in `tab`, which is then the tab in view."""
        return TabSearches(tab, {**self.queries, tab: query})

    def viewing(self, tab: str) -> "TabSearches":
        return TabSearches(tab, self.queries)

    def forgetting(self, tab: str) -> "TabSearches":
        """`tab` in view without a search (its photo is gone: its results no longer belong to anything shown)."""
        return TabSearches(tab, {name: query for name, query in self.queries.items() if name != tab})

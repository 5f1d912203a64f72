"""The page's parts, one module each: the header, the three search tabs, the filters panel and the results panel.

Each part builds its components inside the current Gradio context and returns them in a small dataclass whose
`connect` wires its events to the page's handlers (ui.page); ui.demo puts the parts together.
"""

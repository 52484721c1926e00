"""Where output goes: the rendered page (a Jupyter kernel) or a terminal.

Chapters run both inside the book build (a kernel executes them) and as plain
scripts (``python book/<chapter>.py``). These helpers send each result to the
right place so that a chapter never has to ask.
"""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Any

FIGURES_ENV_VAR = "QUANTHEORY_FIGURES"


def in_notebook() -> bool:
    """True when running inside a Jupyter kernel (the book build), else False."""
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython ships with the book's stack
        return False
    shell = get_ipython()
    return shell is not None and hasattr(shell, "kernel")


def show(obj: Any) -> None:
    """Display ``obj`` in the page, or print its text form in a terminal."""
    if in_notebook():
        from IPython.display import display

        display(obj)
    else:
        print(obj.as_text() if hasattr(obj, "as_text") else obj)


def glue(name: str, value: Any) -> None:
    """Store ``value`` under ``name`` for ``{glue:text}`` / ``{glue:figure}`` in the prose.

    Outside a kernel there is no page to glue into, so this does nothing.
    """
    if in_notebook():
        from myst_nb import glue as myst_glue

        if hasattr(value, "item") and getattr(value, "ndim", None) == 0:
            value = value.item()  # a NumPy scalar: glue formats plain Python numbers
        myst_glue(name, value, display=False)


def show_figure(fig: Any, name: str) -> Path | None:
    """Glue a Matplotlib figure (as PNG) for ``{glue:figure}``; in a terminal, save it.

    In script mode the figure is written to ``$QUANTHEORY_FIGURES/<name>.png``
    (default ``./figures``) and the path is printed and returned.
    """
    import matplotlib.pyplot as plt

    if in_notebook():
        from IPython.display import Image

        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=160, bbox_inches="tight")
        plt.close(fig)
        glue(name, Image(data=buffer.getvalue(), width=int(fig.get_figwidth() * 100)))
        return None
    folder = Path(os.environ.get(FIGURES_ENV_VAR, "figures"))
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.png"
    fig.savefig(path, dpi=120, bbox_inches="tight")
    plt.close(fig)
    print(f"figure {name!r} saved to {path}")
    return path


class Table:
    """A small table that renders as HTML in the page and as aligned text in a terminal.

    Parameters
    ----------
    headers : column titles.
    rows : one sequence of cells per row (converted with ``str``).
    """

    def __init__(self, headers: list[str], rows: list[list[Any]]) -> None:
        if any(len(row) != len(headers) for row in rows):
            raise ValueError(f"every row must have {len(headers)} cells, as many as the headers")
        self.headers = [str(h) for h in headers]
        self.rows = [[str(cell) for cell in row] for row in rows]

    def _repr_html_(self) -> str:
        import html

        head = "".join(f"<th>{html.escape(h)}</th>" for h in self.headers)
        body = "".join(
            "<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>"
            for row in self.rows
        )
        return (
            f'<table class="qt-table"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'
        )

    def as_text(self) -> str:
        widths = [
            max(len(r[i]) for r in [self.headers, *self.rows]) for i in range(len(self.headers))
        ]
        lines = [
            "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True))
            for row in [self.headers, *self.rows]
        ]
        lines.insert(1, "  ".join("-" * w for w in widths))
        return "\n".join(lines)

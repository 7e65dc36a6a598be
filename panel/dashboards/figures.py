"""Plotly figures built from plain rows: pure functions, no database, no request.

Colours are the Okabe-Ito palette, which readers with colour-blindness can tell apart;
every chart also has a text summary and a data table on its page.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence

import plotly.graph_objects as go
import plotly.io as pio

BLUE, ORANGE, GREEN, GREY = "#0072B2", "#E69F00", "#009E73", "#999999"
# Characters a line of a bar's label: the chart must fit a 360-pixel phone screen.
LABEL_WIDTH = 24
FONT = {"family": "system-ui, -apple-system, Segoe UI, Roboto, sans-serif", "size": 14}


def _layout(fig: go.Figure, title: str, height: int) -> go.Figure:
    fig.update_layout(
        title={"text": title, "x": 0},
        font=FONT,
        height=height,
        margin={"l": 10, "r": 20, "t": 50, "b": 40},  # room for the last tick, "100"
        paper_bgcolor="white",
        plot_bgcolor="white",
    )
    return fig


def _wrap(label: str, width: int = LABEL_WIDTH) -> str:
    """A long label over several lines, so that it fits beside its bar on a phone."""
    return "<br>".join(textwrap.wrap(label, width)) or label


def share_bars(title: str, rows: Sequence[tuple[str, float | None]]) -> go.Figure:
    """Horizontal bars of favourable shares; a hidden share is a row marked "hidden", with
    no bar: a hidden figure shows as hidden, never as missing."""
    labels = [_wrap(label) for label, _value in rows]
    fig = go.Figure(
        go.Bar(
            x=[value for _label, value in rows],
            y=labels,
            customdata=[label for label, _value in rows],
            orientation="h",
            marker_color=BLUE,
            text=[f"{value:.0f}%" if value is not None else "hidden" for _label, value in rows],
            textposition="auto",
            hovertemplate="%{customdata}: %{x:.0f}%<extra></extra>",
        )
    )
    fig.update_xaxes(range=[0, 100], title="% favourable", gridcolor="#dddddd")
    fig.update_yaxes(autorange="reversed", automargin=True)
    # Plotly spaces the bars evenly: each row gets the height of the tallest label.
    lines = max((label.count("<br>") + 1 for label in labels), default=1)
    return _layout(fig, title, max(200, 90 + len(labels) * max(34, 10 + 18 * lines)))


def trend(title: str, points: Sequence[tuple[int, float | None]]) -> go.Figure:
    """A share across years; hidden years are gaps, not zeros."""
    fig = go.Figure(
        go.Scatter(
            x=[str(year) for year, _value in points],
            y=[value for _year, value in points],
            mode="lines+markers+text",
            line={"color": BLUE, "width": 3},
            marker={"size": 10, "color": BLUE, "symbol": "circle"},
            connectgaps=False,
            text=["" if value is not None else "hidden" for _year, value in points],
            textposition="top center",
            hovertemplate="%{x}: %{y:.0f}%<extra></extra>",
        )
    )
    fig.update_yaxes(range=[0, 100], title="% favourable", gridcolor="#dddddd")
    fig.update_xaxes(type="category", title="Year")
    return _layout(fig, title, 320)


def funnel(title: str, stages: Sequence[tuple[str, int | None]]) -> go.Figure:
    """Card counts at each stage; a hidden count is drawn as no bar, with a note."""
    colours = [BLUE, ORANGE, GREEN, GREY]
    fig = go.Figure(
        go.Bar(
            x=[label for label, _count in stages],
            y=[count for _label, count in stages],
            marker_color=colours[: len(stages)],
            text=[str(count) if count is not None else "hidden" for _label, count in stages],
            textposition="auto",
            hovertemplate="%{x}: %{y}<extra></extra>",
        )
    )
    fig.update_yaxes(title="Cards", gridcolor="#dddddd", rangemode="tozero")
    return _layout(fig, title, 320)


def to_json(fig: go.Figure) -> str:
    """The figure as JSON for the page (read by static/js/dashboards.js)."""
    return str(pio.to_json(fig, validate=False, pretty=False))

"""A timeline figure of the events: one lane (and colour) per class, one row per event.

Date precision is visible: an event known to the day is a point (a short line joins the
days of a multi-day event), one known only to the month or year is a bar spanning the
whole interval it denotes. Status is the fill: solid for occurred, hollow for claimed,
hatched for scheduled, grey with a cross for cancelled. The x axis is broken where the
events leave a long gap (e.g. 1956 … 2015), so decades without events take no room; every
panel keeps the same time scale and each break is labelled with the years it leaves out.
Labels are wrapped, never cut. The figure credits its source and licence. Lanes are the
events' ``scope_class`` (2.x) or ``event_type`` (1.x), whichever the schema has.

Matplotlib is an optional dependency (extra ``timeline``), imported only here, with the
non-interactive Agg canvas; output is as deterministic as Matplotlib allows (fixed SVG
hash salt, no dates or software metadata). SVG keeps its text as text (searchable,
selectable, read by screen readers).
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import polars as pl

from .atomic import atomic_path
from .errors import ExportError
from .loader import load
from .package import open_package
from .records import CLASS_COLUMNS

#: File suffixes (image formats) the timeline can be written as.
TIMELINE_FORMATS = ("png", "svg", "pdf")
#: A gap between events longer than this breaks the time axis into separate panels.
AXIS_BREAK = timedelta(days=3 * 365)
#: At most this many panels; the shortest gaps are closed first.
MAX_PANELS = 5
#: Least time a panel shows, so a lone event still has room around it.
_MIN_PANEL_SPAN = timedelta(days=365)
#: Panels with fewer events get one label naming their years instead of dated ticks.
_DATED_TICKS_FROM = 6
_LABEL_CHARS = 70
#: Height of one line of label text, in rows of the y axis.
_LINE = 0.42
_ROW_INCHES = 0.3


@dataclass(frozen=True)
class _Event:
    start: date
    end: date
    precision: str
    event_type: str
    status: str
    label: str

    @property
    def lines(self) -> int:
        return self.label.count("\n") + 1


def _import_matplotlib() -> Any:
    try:
        import matplotlib
    except ImportError:
        raise ExportError(
            "The timeline needs the optional dependency 'matplotlib', which is not installed; "
            "nothing was written. Install it with: pip install 'relations-data[timeline]'"
        ) from None
    return matplotlib


def _date_label(start: date, end: date, precision: str) -> str:
    formats = {"year": "%Y", "month": "%Y-%m"}
    fmt = formats.get(precision, "%Y-%m-%d")
    first, last = start.strftime(fmt), end.strftime(fmt)
    return first if first == last else f"{first}–{last}"


def _wrapped(text: str) -> str:
    """The whole label on as many lines as it needs: a cut label can lose its verb."""
    # Break only between words: a hyphenated word ("Soviet-built") or a long name stays
    # whole, so every label reads as its summary does.
    return textwrap.fill(
        " ".join(text.split()),
        width=_LABEL_CHARS,
        break_on_hyphens=False,
        break_long_words=False,
    )


def _events(frame: pl.DataFrame, lane: str) -> list[_Event]:
    events = []
    for row in frame.iter_rows(named=True):
        start, end = row["date_start"], row["date_end"] or row["date_start"]
        precision = str(row["date_precision"])
        text = row.get("summary") or row.get("id") or ""
        events.append(
            _Event(
                start=start,
                end=end,
                precision=precision,
                event_type=str(row[lane]),
                status=str(row["status"]),
                label=_wrapped(f"{_date_label(start, end, precision)}  {text}"),
            )
        )
    return events


def axis_segments(
    spans: list[tuple[date, date]], *, gap: timedelta = AXIS_BREAK, most: int = MAX_PANELS
) -> list[tuple[date, date]]:
    """Date ranges of the panels of a broken time axis.

    Intervals closer than ``gap`` share a panel; if that leaves more than ``most`` panels
    the closest panels are merged until ``most`` remain.

    Examples
    --------
    >>> from datetime import date
    >>> spans = [(date(1956, 5, 13), date(1956, 5, 13)), (date(2015, 1, 1), date(2018, 7, 29))]
    >>> [(a.year, b.year) for a, b in axis_segments(spans)]
    [(1956, 1956), (2015, 2018)]
    """
    segments: list[list[date]] = []
    for start, end in sorted(spans):
        if segments and start - segments[-1][1] <= gap:
            segments[-1][1] = max(segments[-1][1], end)
        else:
            segments.append([start, end])
    while len(segments) > most:
        gaps = [segments[i + 1][0] - segments[i][1] for i in range(len(segments) - 1)]
        index = gaps.index(min(gaps))
        segments[index][1] = max(segments[index][1], segments[index + 1][1])
        del segments[index + 1]
    return [(a, b) for a, b in segments]


def _rows(events: list[_Event], type_order: list[str]) -> list[tuple[str, _Event | None]]:
    """Rows top to bottom: a header row per event type, then its events by date."""
    rows: list[tuple[str, _Event | None]] = []
    for event_type in type_order:
        members = sorted(
            (e for e in events if e.event_type == event_type), key=lambda e: (e.start, e.end)
        )
        if members:
            rows.append((event_type, None))
            rows.extend((event_type, e) for e in members)
    return rows


@dataclass(frozen=True)
class _Style:
    fill: bool = True
    hatch: str | None = None
    grey: bool = False
    cross: bool = False
    description: str = "filled"


#: How each status looks: the drawing's legend, not data structure. A status the schema
#: gains later is drawn dashed until it gets a style here.
_STATUS_STYLE: dict[str, _Style] = {
    "occurred": _Style(),
    "claimed": _Style(fill=False, description="hollow"),
    "scheduled": _Style(fill=False, hatch="////", description="hatched"),
    "cancelled": _Style(grey=True, cross=True, description="grey, ×"),
}
_UNSTYLED = _Style(fill=False, hatch="..", description="dotted")


def _draw_event(axes: Any, y: float, event: _Event, colour: Any) -> None:
    style = _STATUS_STYLE.get(event.status, _UNSTYLED)
    colour = "0.6" if style.grey else colour
    face = colour if style.fill else "white"
    if event.precision == "day":
        if event.end > event.start:
            axes.plot([event.start, event.end], [y, y], color=colour, linewidth=1.5, zorder=2)
        for day in dict.fromkeys((event.start, event.end)):  # a set would vary the draw order
            axes.plot(
                [day],
                [y],
                marker="o",
                markersize=6,
                markerfacecolor=face,
                markeredgecolor=colour,
                markeredgewidth=1.4,
                linestyle="none",
                zorder=3,
            )
    else:
        width = (event.end + timedelta(days=1)) - event.start
        axes.barh(
            y,
            width,
            left=event.start,
            height=0.55,
            color=face,
            edgecolor=colour,
            linewidth=1.4,
            hatch=style.hatch,
            zorder=2,
        )
    if style.cross:
        axes.plot([event.start], [y], marker="x", color="black", markersize=6, zorder=4)


def _legend_handles(statuses: list[str]) -> list[Any]:
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    grey = "0.3"
    handles: list[Any] = [
        Line2D([], [], marker="o", color=grey, linestyle="none", label="day precision"),
        Patch(facecolor=grey, edgecolor=grey, label="month or year precision (interval)"),
    ]
    for status in statuses:
        style = _STATUS_STYLE.get(status, _UNSTYLED)
        label = f"{status} ({style.description})"
        if style.cross:
            handles.append(Line2D([], [], marker="x", color="black", linestyle="none", label=label))
        else:
            face = ("0.6" if style.grey else grey) if style.fill else "white"
            handles.append(Patch(facecolor=face, edgecolor=grey, hatch=style.hatch, label=label))
    return handles


def _date_ticks(axes: Any, span: tuple[date, date], count: int) -> None:
    """Ticks of one panel: the years it covers when narrow, else dates matplotlib picks."""
    import matplotlib.dates as mdates

    if count < _DATED_TICKS_FROM:
        # A narrow panel has room for one label: the years it covers.
        a, b = span
        middle = a + (b - a) / 2
        axes.set_xticks(
            [middle], labels=[str(a.year) if a.year == b.year else f"{a.year}–{b.year}"]
        )
    else:
        locator = mdates.AutoDateLocator(minticks=2, maxticks=8)  # type: ignore[no-untyped-call]
        axes.xaxis.set_major_locator(locator)
        formatter = mdates.ConciseDateFormatter(locator)  # type: ignore[no-untyped-call]
        axes.xaxis.set_major_formatter(formatter)


def _row_positions(rows: list[tuple[str, _Event | None]]) -> tuple[list[float], list[float]]:
    """Centre and height of each row on the y axis: a wrapped label takes more room."""
    centres, heights, top = [], [], 0.0
    for _, event in rows:
        height = max(1.0, (event.lines if event else 1) * _LINE + 0.35)
        centres.append(top + height / 2)
        heights.append(height)
        top += height
    return centres, heights


def _row_labels(axes: Any, rows: list[tuple[str, _Event | None]], centres: list[float]) -> None:
    """Label each row with its event, and each lane's heading row in bold capitals."""
    total = centres[-1] + (centres[-1] - centres[-2] if len(centres) > 1 else 0.5)
    axes.set_ylim(total, 0)
    axes.set_yticks(centres)
    axes.set_yticklabels(
        [t.replace("_", " ").upper() if e is None else e.label for t, e in rows], fontsize=8
    )
    for label, (_, event) in zip(axes.get_yticklabels(), rows, strict=True):
        if event is None:
            label.set_fontweight("bold")


def _gap_text(gap: timedelta) -> str:
    years = round(gap.days / 365.25)
    if years >= 2:
        return f"{years} years left out"
    months = max(1, round(gap.days / 30.44))
    return f"{months} month{'s' if months > 1 else ''} left out"


def _figure(
    events: list[_Event], type_order: list[str], statuses: list[str], title: str, credit: str
) -> Any:
    matplotlib = _import_matplotlib()
    from matplotlib.figure import Figure

    rows = _rows(events, type_order)
    centres, heights = _row_positions(rows)
    height = max(3.0, _ROW_INCHES * sum(heights) + 2.6)
    if not events:
        figure = Figure(figsize=(8, 3))
        figure.text(0.5, 0.5, "No events in the data package.", ha="center", va="center")
        figure.suptitle(title)
        return figure
    pad = timedelta(days=45)
    spans = axis_segments([(e.start, e.end) for e in events])
    counts = [sum(1 for e in events if e.end >= a and e.start <= b) for a, b in spans]
    # A short panel still shows a year around its events.
    segments = [
        (a - (_MIN_PANEL_SPAN - (b - a)) / 2, b + (_MIN_PANEL_SPAN - (b - a)) / 2)
        if b - a < _MIN_PANEL_SPAN
        else (a, b)
        for a, b in spans
    ]
    # One time scale: each panel's width is proportional to the time it shows.
    widths = [((b - a) + 2 * pad).days for a, b in segments]
    figure = Figure(figsize=(14, height), layout="constrained")
    panels = figure.subplots(1, len(segments), sharey=True, squeeze=False, width_ratios=widths)[0]
    # Dark2 is dark enough for hollow marks; its last colour, grey, is kept for cancelled.
    dark = matplotlib.colormaps["Dark2"]
    palette = [dark(i) for i in range(dark.N - 1)]
    lanes = list(dict.fromkeys(t for t, _ in rows))
    lane_colour = {t: palette[i % len(palette)] for i, t in enumerate(lanes)}
    for index, (axes, (first, last)) in enumerate(zip(panels, segments, strict=True)):
        for y, row_height, (event_type, event) in zip(centres, heights, rows, strict=True):
            if event is None:
                axes.axhspan(
                    y - row_height / 2, y + row_height / 2, color="0.92", zorder=0, linewidth=0
                )
            elif event.end >= first and event.start <= last:
                _draw_event(axes, y, event, lane_colour[event_type])
        axes.set_xlim(first - pad, last + pad + timedelta(days=1))
        _date_ticks(axes, spans[index], counts[index])
        axes.grid(axis="x", color="0.85", linewidth=0.6, zorder=1)
        axes.tick_params(axis="x", labelsize=8)
        if index > 0:
            axes.spines["left"].set_linestyle((0, (3, 3)))
            axes.tick_params(axis="y", left=False)
            gap = spans[index][0] - spans[index - 1][1]
            axes.text(
                0, 1.005, f"⋯ {_gap_text(gap)} ⋯", transform=axes.transAxes,
                ha="center", va="bottom", fontsize=7, color="0.25",
            )  # fmt: skip
        if index < len(segments) - 1:
            axes.spines["right"].set_linestyle((0, (3, 3)))
    _row_labels(panels[0], rows, centres)
    figure.legend(
        handles=_legend_handles(statuses),
        loc="outside lower center",
        ncols=3,
        fontsize=8,
        frameon=False,
        # The credit heads the legend: a separate footer would collide with it.
        title=credit,
        title_fontsize=7,
    )
    figure.suptitle(title)
    return figure


def draw_timeline(out: str | Path, *, source: str | Path | None = None) -> Path:
    """Draw the events on a time axis and save the figure as PNG, SVG or PDF.

    Parameters
    ----------
    out
        Target file; its suffix (``.png``, ``.svg`` or ``.pdf``) chooses the format.
        Written atomically.
    source
        The data package (``None``: the bundled copy; or a folder, descriptor or zip).

    Returns
    -------
    Path
        ``out``.

    Raises
    ------
    ExportError
        Unknown image suffix, or Matplotlib (extra ``timeline``) is not installed.
    """
    target = Path(out)
    fmt = target.suffix.lower().lstrip(".")
    if fmt not in TIMELINE_FORMATS:
        raise ExportError(
            f"{target}: expected a file name ending in "
            f"{' or '.join('.' + f for f in TIMELINE_FORMATS)}, found {target.suffix!r}; "
            "nothing was written."
        )
    matplotlib = _import_matplotlib()
    package = open_package(source)
    resource = package.resource("events")
    frame = load("events", source=package.descriptor_path)
    names = resource.schema.field_names
    lane = next(c for c in (*CLASS_COLUMNS, "event_type") if c in names)
    type_field = resource.schema.field(lane)
    present = {str(t) for t in frame.get_column(lane).unique().to_list()}
    order = [str(t) for t in type_field.enum or ()] + sorted(present)
    type_order = [t for t in dict.fromkeys(order) if t in present]
    descriptor = package.descriptor
    title = f"{descriptor.get('title', descriptor.get('name', ''))}"
    title += f" — events by {(type_field.title or lane).lower()} (version {package.version})"
    credit = _credit(descriptor, package.version)
    with matplotlib.rc_context({"svg.hashsalt": "relations-data", "svg.fonttype": "none"}):
        statuses = [str(s) for s in resource.schema.field("status").enum or ()]
        figure = _figure(_events(frame, lane), type_order, statuses, title, credit)
        metadata: dict[str, Any] = {
            "svg": {"Date": None, "Creator": None},
            "pdf": {"CreationDate": None, "ModDate": None, "Creator": None, "Producer": None},
        }.get(fmt, {"Software": None})
        with atomic_path(target, suffix=f".{fmt}") as temporary:
            figure.savefig(temporary, format=fmt, dpi=150, metadata=metadata)
    return target


def _credit(descriptor: Any, version: str) -> str:
    """Where the figure's data comes from and under which licence."""
    licences = descriptor.get("licenses") or [{}]
    licence = licences[0].get("title") or licences[0].get("name") or "see the data package"
    where = descriptor.get("homepage") or descriptor.get("id") or ""
    name = descriptor.get("name", "")
    return (
        f"Source: {name} {version}, {where} — every event cited to its sources. "
        f"Data licence: {licence}."
    )

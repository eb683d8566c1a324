"""The cumulative lift over time as an SVG line chart's coordinates, drawn by the results template."""

from dataclasses import dataclass

from .results import TimelinePoint

WIDTH, HEIGHT, MARGIN = 640, 220, 48
COLOURS = ["#c0392b", "#2471a3", "#1e8449", "#b9770e", "#7d3c98"]


@dataclass(frozen=True)
class Line:
    key: str
    colour: str
    points: str  # "x,y x,y ..."
    label_y: float  # where its key is written, top right


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    lines: list[Line]
    zero_y: float
    ticks: list[tuple[float, str]]  # y, label (percent)
    start: str
    end: str
    left: int = MARGIN
    right: int = WIDTH - MARGIN // 2


def lift_chart(timeline: list[TimelinePoint]) -> Chart | None:
    keys = sorted({key for point in timeline for key in point.lifts})
    values = [lift for point in timeline for lift in point.lifts.values() if lift is not None]
    if len(timeline) < 2 or not values:
        return None
    low, high = min(min(values), 0.0), max(max(values), 0.0)
    if high - low < 0.02:
        high, low = high + 0.01, low - 0.01
    first, last = timeline[0].at.timestamp(), timeline[-1].at.timestamp()

    def x(at: float) -> float:
        return MARGIN + (at - first) / (last - first or 1) * (WIDTH - 1.5 * MARGIN)

    def y(lift: float) -> float:
        return MARGIN / 2 + (high - lift) / (high - low) * (HEIGHT - 1.5 * MARGIN)

    lines = [
        Line(
            key,
            COLOURS[index % len(COLOURS)],
            " ".join(
                f"{x(point.at.timestamp()):.1f},{y(point.lifts[key]):.1f}"
                for point in timeline
                if point.lifts.get(key) is not None
            ),
            14.0 * (index + 1),
        )
        for index, key in enumerate(keys)
    ]
    ticks = [(y(value), f"{value:+.0%}") for value in (high, (high + low) / 2, low)]
    return Chart(
        WIDTH,
        HEIGHT,
        lines,
        y(0.0),
        ticks,
        timeline[0].at.strftime("%d %b %H:%M"),
        timeline[-1].at.strftime("%d %b %H:%M"),
    )

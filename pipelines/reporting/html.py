"""Write the self-contained HTML dashboard: inline CSS and SVG, no network access needed."""

from __future__ import annotations

from datetime import UTC, date, datetime
from html import escape
from pathlib import Path
from typing import cast

from pipelines.reporting.report import PERCENTILES, ReportData
from pipelines.reporting.svg import Frame, date_ticks, format_number, nice_ticks

CATEGORY_STYLES = (  # stacking order, bottom first: status category key, label, colour
    ("done", "Done", "#3fa37b"),
    ("indeterminate", "In progress", "#3b82c4"),
    ("new", "To do", "#b8c2cc"),
    ("unknown", "Unknown status", "#e0b252"),
)
PERCENTILE_COLOURS = {0.5: "#3fa37b", 0.85: "#e08a2c", 0.95: "#d64545"}
CREATED_COLOUR = "#d9822b"
RESOLVED_COLOUR = "#3b82c4"
BAR_COLOUR = "#5b7fd1"

# Records script errors into the page, so a headless browser's DOM dump shows them.
ERROR_TRAP = """
window.addEventListener("error", function (event) {
  var box = document.getElementById("page-errors");
  box.textContent += (event.message || "error") + "\\n";
  box.hidden = false;
});
document.addEventListener("DOMContentLoaded", function () {
  document.body.setAttribute("data-charts", document.querySelectorAll("svg.chart").length);
});
"""

STYLE = """
:root { color-scheme: light; }
body { margin: 0; background: #f4f6fa; color: #1f2d3d;
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
header { background: #1f2d3d; color: #fff; padding: 20px 32px; }
header h1 { margin: 0; font-size: 22px; font-weight: 600; }
header p { margin: 4px 0 0; color: #c0ccda; font-size: 13px; }
main { max-width: 1240px; margin: 0 auto; padding: 20px 24px 40px; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(200px, 1fr)); gap: 14px; }
.card { background: #fff; border-radius: 10px; padding: 14px 18px;
  box-shadow: 0 1px 3px rgba(31, 45, 61, 0.12); }
.card .value { font-size: 28px; font-weight: 600; }
.card .label { font-size: 12px; color: #5a6b7f; text-transform: uppercase; letter-spacing: .04em; }
.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(540px, 1fr));
  gap: 18px; margin-top: 18px; }
section.panel { background: #fff; border-radius: 10px; padding: 14px 16px 8px;
  box-shadow: 0 1px 3px rgba(31, 45, 61, 0.12); }
section.panel h2 { margin: 0 0 2px; font-size: 16px; font-weight: 600; }
section.panel p { margin: 0 0 6px; font-size: 12px; color: #5a6b7f; }
#page-errors { white-space: pre; color: #b00020; }
"""


def _short_date(day: date) -> str:
    return day.strftime("%b %d")


def cumulative_flow_chart(data: ReportData) -> str:
    """Draw the issues per status category per day as stacked areas."""
    days = sorted({day for day, _, _ in data.flow})
    counts = {(day, category): count for day, category, count in data.flow}
    present = [style for style in CATEGORY_STYLES if any(c == style[0] for _, c, _ in data.flow)]
    totals = [sum(counts.get((day, style[0]), 0) for style in present) for day in days]
    frame = Frame(0, 1, 0, 1)
    if not days:
        return frame.open("Cumulative flow") + frame.empty("No issues yet") + "</svg>"
    ticks = nice_ticks(0, max(totals))
    frame = Frame(days[0].toordinal(), days[-1].toordinal(), 0, ticks[-1])
    parts = [frame.open("Cumulative flow diagram"), frame.y_axis(ticks, "Issues")]
    base = [0] * len(days)
    for key, label, colour in present:
        top = [base[i] + counts.get((day, key), 0) for i, day in enumerate(days)]
        upper = [
            f"{frame.x(d.toordinal()):.1f},{frame.y(v):.1f}" for d, v in zip(days, top, strict=True)
        ]
        lower = [
            f"{frame.x(d.toordinal()):.1f},{frame.y(v):.1f}"
            for d, v in reversed(list(zip(days, base, strict=True)))
        ]
        parts.append(
            f'<polygon points="{" ".join(upper + lower)}" fill="{colour}" fill-opacity="0.9" '
            f'stroke="#fff" stroke-width="0.5"><title>{escape(label)}</title></polygon>'
        )
        base = top
    ticks_x = [(d.toordinal(), _short_date(d)) for d in date_ticks(days[0], days[-1])]
    parts.append(frame.x_axis(ticks_x, "Day (UTC)"))
    parts.append(frame.legend([(label, colour) for _, label, colour in reversed(present)]))
    return "".join(parts) + "</svg>"


def cycle_time_scatter(data: ReportData) -> str:
    """Draw one dot per finished issue (finish day, cycle time) with percentile lines."""
    points = [
        (issue.finished_at.date(), issue.cycle_time_days, issue.issue_key)
        for issue in data.finished
        if issue.cycle_time_days is not None
    ]
    frame = Frame(0, 1, 0, 1)
    if not points:
        return frame.open("Cycle time") + frame.empty("No finished issues yet") + "</svg>"
    first = min(p[0] for p in points)
    last = max(p[0] for p in points)
    if first == last:
        first = date.fromordinal(first.toordinal() - 1)
        last = date.fromordinal(last.toordinal() + 1)
    ticks = nice_ticks(0, max(p[1] for p in points))
    frame = Frame(first.toordinal(), last.toordinal(), 0, ticks[-1], right=70)
    parts = [frame.open("Cycle time scatter plot"), frame.y_axis(ticks, "Cycle time (days)")]
    for day, days_taken, key in points:
        parts.append(
            f'<circle cx="{frame.x(day.toordinal()):.1f}" cy="{frame.y(days_taken):.1f}" r="4.5" '
            f'fill="{BAR_COLOUR}" fill-opacity="0.75" stroke="#fff" stroke-width="1">'
            f"<title>{escape(key)}: {days_taken:.1f} days</title></circle>"
        )
    for fraction, value in data.cycle_time_percentiles().items():
        colour = PERCENTILE_COLOURS[fraction]
        y = frame.y(value)
        parts.append(
            f'<line x1="{frame.left}" x2="{frame.width - frame.right}" y1="{y:.1f}" '
            f'y2="{y:.1f}" stroke="{colour}" stroke-width="1.5" stroke-dasharray="6 4"/>'
            f'<text x="{frame.width - frame.right + 4}" y="{y + 4:.1f}" font-size="11" '
            f'fill="{colour}">p{round(fraction * 100)} {format_number(round(value, 1))}d</text>'
        )
    ticks_x = [(d.toordinal(), _short_date(d)) for d in date_ticks(first, last)]
    parts.append(frame.x_axis(ticks_x, "Finished on"))
    return "".join(parts) + "</svg>"


def throughput_chart(data: ReportData, weeks: int = 26) -> str:
    """Draw the issues finished per week as bars, for the last `weeks` weeks."""
    recent = data.throughput[-weeks:]
    frame = Frame(0, 1, 0, 1)
    if not recent:
        return frame.open("Weekly throughput") + frame.empty("No issues yet") + "</svg>"
    ticks = nice_ticks(0, max(max(count for _, count in recent), 1))
    frame = Frame(-0.5, len(recent) - 0.5, 0, ticks[-1])
    parts = [frame.open("Weekly throughput"), frame.y_axis(ticks, "Issues finished")]
    slot = frame.x(1) - frame.x(0)
    for index, (week, count) in enumerate(recent):
        x = frame.x(index) - slot * 0.35
        y = frame.y(count)
        parts.append(
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{slot * 0.7:.1f}" '
            f'height="{frame.plot_bottom - y:.1f}" rx="2" fill="{BAR_COLOUR}">'
            f"<title>Week of {week}: {count} finished</title></rect>"
        )
    step = max(1, len(recent) // 6)
    ticks_x = [(i, _short_date(week)) for i, (week, _) in enumerate(recent) if i % step == 0]
    parts.append(frame.x_axis(ticks_x, "Week starting (Monday)"))
    return "".join(parts) + "</svg>"


def aging_chart(data: ReportData, rows: int = 12) -> str:
    """Draw the oldest issues in progress as horizontal bars, with cycle-time percentiles."""
    oldest = data.aging[:rows]
    if not oldest:
        frame = Frame(0, 1, 0, 1)
        return frame.open("Aging work in progress") + frame.empty("Nothing in progress") + "</svg>"
    percentiles = data.cycle_time_percentiles()
    ticks = nice_ticks(0, max([issue.age_days for issue in oldest] + list(percentiles.values())))
    height = max(220, 60 + 26 * len(oldest))
    frame = Frame(0, ticks[-1], 0, len(oldest), height=height, left=96, right=24)
    parts = [frame.open("Aging work in progress")]
    for tick in ticks:
        x = frame.x(tick)
        parts.append(
            f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{frame.top}" y2="{frame.plot_bottom}" '
            'stroke="#e5e9f0"/>'
        )
    band = (frame.plot_bottom - frame.top) / len(oldest)
    for index, issue in enumerate(oldest):
        y = frame.top + index * band + band * 0.18
        colour = BAR_COLOUR
        if percentiles and issue.age_days > percentiles[0.85]:
            colour = PERCENTILE_COLOURS[0.95]
        elif percentiles and issue.age_days > percentiles[0.5]:
            colour = PERCENTILE_COLOURS[0.85]
        width = max(frame.x(issue.age_days) - frame.left, 2)
        title = f"{issue.issue_key} ({issue.status}): {issue.age_days:.1f} days"
        parts.append(
            f'<text x="{frame.left - 8}" y="{y + band * 0.42:.1f}" text-anchor="end" '
            f'font-size="11" fill="#3c4858">{escape(issue.issue_key)}</text>'
            f'<rect x="{frame.left}" y="{y:.1f}" width="{width:.1f}" height="{band * 0.64:.1f}" '
            f'rx="2" fill="{colour}"><title>{escape(title)}</title></rect>'
        )
    for fraction in (0.5, 0.85):
        if fraction in percentiles:
            x = frame.x(percentiles[fraction])
            colour = PERCENTILE_COLOURS[fraction]
            parts.append(
                f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{frame.top - 4}" y2="{frame.plot_bottom}" '
                f'stroke="{colour}" stroke-width="1.5" stroke-dasharray="6 4"/>'
            )
    legend = [("Age", BAR_COLOUR)]
    if percentiles:
        legend = [
            ("Below cycle p50", BAR_COLOUR),
            ("Above p50", PERCENTILE_COLOURS[0.85]),
            ("Above p85", PERCENTILE_COLOURS[0.95]),
        ]
    parts.append(frame.legend(legend))
    parts.append(frame.x_axis([(t, format_number(t)) for t in ticks], "Age since start (days)"))
    return "".join(parts) + "</svg>"


def created_resolved_chart(data: ReportData) -> str:
    """Draw cumulative created and resolved issues per week as two lines."""
    weeks = data.created_resolved
    frame = Frame(0, 1, 0, 1)
    if not weeks:
        return frame.open("Created versus resolved") + frame.empty("No issues yet") + "</svg>"
    ticks = nice_ticks(0, max(max(w[3] for w in weeks), 1))
    first, last = weeks[0][0], weeks[-1][0]
    if first == last:
        first = date.fromordinal(first.toordinal() - 7)
    frame = Frame(first.toordinal(), last.toordinal(), 0, ticks[-1])
    parts = [frame.open("Created versus resolved"), frame.y_axis(ticks, "Issues (cumulative)")]
    for index, label, colour in ((3, "Created", CREATED_COLOUR), (4, "Resolved", RESOLVED_COLOUR)):
        points = " ".join(
            f"{frame.x(week[0].toordinal()):.1f},{frame.y(cast(int, week[index])):.1f}"
            for week in weeks
        )
        parts.append(
            f'<polyline points="{points}" fill="none" stroke="{colour}" stroke-width="2.5" '
            f'stroke-linejoin="round"><title>{label}</title></polyline>'
        )
        for week in weeks:
            parts.append(
                f'<circle cx="{frame.x(week[0].toordinal()):.1f}" cy="{frame.y(cast(int, week[index])):.1f}" '
                f'r="3" fill="{colour}"><title>{label} by week of {week[0]}: {week[index]}'
                "</title></circle>"
            )
    ticks_x = [(d.toordinal(), _short_date(d)) for d in date_ticks(first, last)]
    parts.append(frame.x_axis(ticks_x, "Week starting (Monday)"))
    parts.append(frame.legend([("Created", CREATED_COLOUR), ("Resolved", RESOLVED_COLOUR)]))
    return "".join(parts) + "</svg>"


def _card(value: str, label: str) -> str:
    return (
        f'<div class="card"><div class="value">{escape(value)}</div>'
        f'<div class="label">{escape(label)}</div></div>'
    )


def _panel(title: str, description: str, chart: str) -> str:
    return (
        f'<section class="panel"><h2>{escape(title)}</h2><p>{escape(description)}</p>'
        f"{chart}</section>"
    )


def render_dashboard(data: ReportData, dataset: str, generated_at: datetime | None = None) -> str:
    """Build the dashboard page for `data` as one HTML string."""
    generated_at = generated_at or datetime.now(UTC)
    cycle = data.cycle_time_percentiles()
    recent_finished = sum(count for _, count in data.throughput[-4:])
    cards = [
        _card(str(len(data.aging)), "Work in progress"),
        _card(str(recent_finished), "Finished, last 4 weeks"),
        _card(f"{cycle[0.5]:.1f} d" if cycle else "-", "Cycle time p50"),
        _card(f"{cycle[0.85]:.1f} d" if cycle else "-", "Cycle time p85"),
        _card(str(len(data.finished)), "Finished issues"),
    ]
    percentile_names = ", ".join(f"p{round(q * 100)}" for q in PERCENTILES)
    panels = [
        _panel(
            "Cumulative flow",
            "Issues in each status category at the end of each day.",
            cumulative_flow_chart(data),
        ),
        _panel(
            "Cycle time",
            f"Days from start to finish per finished issue, with {percentile_names} lines.",
            cycle_time_scatter(data),
        ),
        _panel("Weekly throughput", "Issues finished per week.", throughput_chart(data)),
        _panel(
            "Aging work in progress",
            "Oldest issues in progress, coloured against the cycle-time percentiles.",
            aging_chart(data),
        ),
        _panel(
            "Created versus resolved",
            "Issues created and resolved, cumulative by week.",
            created_resolved_chart(data),
        ),
    ]
    stamp = generated_at.strftime("%Y-%m-%d %H:%M UTC")
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>Jira flow report: {escape(dataset)}</title>"
        f"<style>{STYLE}</style><script>{ERROR_TRAP}</script></head><body>"
        f"<header><h1>Jira flow report</h1><p>Dataset {escape(dataset)}, generated {stamp}"
        "</p></header><main>"
        '<div id="page-errors" hidden></div>'
        f'<div class="cards">{"".join(cards)}</div>'
        f'<div class="charts">{"".join(panels)}</div>'
        "</main></body></html>\n"
    )


def write_dashboard(data: ReportData, dataset: str, path: Path) -> None:
    """Write the dashboard to `path` (UTF-8), replacing the file."""
    path.write_text(render_dashboard(data, dataset), encoding="utf-8")

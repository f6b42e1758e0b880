"""Server-side SVG charts (no JavaScript): the channel-share bars by day."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from app.web.i18n import money


@dataclass(frozen=True, slots=True)
class DayBar:
    label: str
    online: int
    offline: int


def channel_bars(days: Sequence[DayBar], *, title: str, online_label: str, offline_label: str,
                 width: int = 640, height: int = 220) -> str:
    """Grouped bars, online against store sales per day, scaled to the largest value; an accessible SVG."""
    top, bottom, left = 24, 28, 8
    plot_h = height - top - bottom
    peak = max([max(d.online, d.offline) for d in days] + [1])
    slot = (width - left * 2) / max(len(days), 1)
    bar = max(min(slot / 2 - 2, 28), 1)
    every = max(1, -(-len(days) // 12))  # at most a dozen day labels, so they never run into each other
    parts = [f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" aria-labelledby="chart-title" '
             f'xmlns="http://www.w3.org/2000/svg"><title id="chart-title">{escape(title)}</title>',
             f'<line x1="{left}" y1="{top + plot_h}" x2="{width - left}" y2="{top + plot_h}" stroke="#555"/>']
    for i, d in enumerate(days):
        x = left + i * slot + (slot - bar * 2) / 2
        for j, (value, cls, name) in enumerate(((d.online, "online", online_label),
                                                (d.offline, "offline", offline_label))):
            h = round(plot_h * value / peak, 1)
            parts.append(f'<rect class="bar-{cls}" x="{x + j * bar:.1f}" y="{top + plot_h - h}" width="{bar:.1f}" '
                         f'height="{h}"><title>{escape(d.label)} {escape(name)}: {money(value)}</title></rect>')
        if i % every == 0 or (i == len(days) - 1 and every == 1):
            parts.append(f'<text x="{x + bar:.1f}" y="{height - 10}" text-anchor="middle" font-size="11">'
                         f'{escape(d.label)}</text>')
    parts.append(f'<rect class="bar-online" x="{left}" y="4" width="12" height="12"/>'
                 f'<text x="{left + 16}" y="14" font-size="12">{escape(online_label)}</text>'
                 f'<rect class="bar-offline" x="{left + 90}" y="4" width="12" height="12"/>'
                 f'<text x="{left + 106}" y="14" font-size="12">{escape(offline_label)}</text></svg>')
    return "".join(parts)

"""Charts of the lead's report, rendered to PNG for the markdown artifact (Chinese labels)."""

from __future__ import annotations

import base64
import io
from collections.abc import Sequence
from datetime import date
from functools import lru_cache

# Fonts with Chinese glyphs, as Debian, macOS and Windows name them (fonts-noto-cjk first).
CJK_FONTS = (
    "Noto Sans CJK SC",
    "Noto Sans CJK JP",
    "Noto Sans SC",
    "WenQuanYi Zen Hei",
    "WenQuanYi Micro Hei",
    "Source Han Sans SC",
    "PingFang SC",
    "Microsoft YaHei",
    "SimHei",
)


@lru_cache(maxsize=1)
def cjk_font() -> str | None:
    """Return the name of an installed font that draws Chinese, or None."""
    from matplotlib import font_manager

    installed = {font.name for font in font_manager.fontManager.ttflist}
    return next((name for name in CJK_FONTS if name in installed), None)


def label(chinese: str, english: str) -> str:
    """Chinese when a font can draw it; English rather than empty boxes otherwise."""
    return chinese if cjk_font() else english


def trend_png(
    title: str,
    days: Sequence[date],
    series: dict[str, Sequence[float]],
    *,
    percent: bool = False,
) -> bytes:
    """Draw one line per series over the days; return the PNG."""
    import matplotlib

    matplotlib.use("Agg")  # no display: the report is rendered on servers
    from matplotlib import pyplot
    from matplotlib.figure import Figure

    font = cjk_font()
    with pyplot.rc_context({"font.family": [font, "DejaVu Sans"] if font else ["DejaVu Sans"]}):
        figure = Figure(figsize=(7.2, 2.8), dpi=80)
        axes = figure.subplots()
        ticks = [f"{d:%m-%d}" for d in days]
        for name, values in series.items():
            axes.plot(ticks, [v * 100 if percent else v for v in values], marker="o", label=name)
        axes.set_title(title)
        axes.grid(alpha=0.3)
        if percent:
            axes.set_ylim(0, 105)
        axes.tick_params(axis="x", labelrotation=45, labelsize=8)
        axes.legend(fontsize=8, loc="upper left")
        figure.tight_layout()
        out = io.BytesIO()
        figure.savefig(out, format="png")
    return out.getvalue()


def markdown_image(alt: str, png: bytes) -> str:
    """Embed a PNG in markdown as a data URI (the Prefect UI shows it in the artifact)."""
    return f"![{alt}](data:image/png;base64,{base64.b64encode(png).decode('ascii')})"

"""The lead's daily report as markdown for the Prefect UI: in Chinese, Beijing time, charts."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from aftercare.charts import label, markdown_image, trend_png
from aftercare.display import markdown_text
from aftercare.rules.report import TEAM, DayFigures
from aftercare.wording import ANOMALY_NAMES, SOURCE_NAMES, close_text, reason_text

REQUEST_ID = re.compile(r"\s*request_id=\S+")


def _rate(value: float | None) -> str:
    return "—" if value is None else f"{value:.0%}"


def overview_row(name: str, today: DayFigures) -> str:
    """One shop's line of the day's overview table."""
    return (
        f"| {markdown_text(name, 30)} | {today.anomalies_opened} / {today.anomalies_closed} "
        f"| {_rate(today.notice_rate)} | {today.reviews_opened} / {today.reviews_closed} "
        f"| {_rate(today.review_rate)} | {today.reminders_sent} / {today.paid_after_reminder} "
        f"| {today.recovered:.2f} 元 | {today.messages_sent} / {today.messages_held} |"
    )


OVERVIEW_HEAD = [
    "| 店铺 | 物流异常 新开/关闭 | 24小时内通知买家 | 中差评 新开/关闭 | 截止前处理 "
    "| 催付 发送/成交 | 挽回金额 | 短信 发送/拦截 |",
    "|---|---|---|---|---|---|---|---|",
]


def trend_charts(title: str, trend: list[DayFigures]) -> list[str]:
    """Three charts over the days as markdown: cases, messages and reminders, service levels."""
    lines: list[str] = []
    for alt, png in trend_images(title, trend):
        lines += ["", markdown_image(alt, png)] if lines else [markdown_image(alt, png)]
    return lines


def trend_images(title: str, trend: list[DayFigures]) -> list[tuple[str, bytes]]:
    """Three charts over the days (alt text, PNG): cases, messages and reminders, levels."""
    days = [page.day for page in trend]
    cases = trend_png(
        label(f"{title}：案例", f"{title}: cases"),
        days,
        {
            label("物流异常新开", "anomalies opened"): [p.anomalies_opened for p in trend],
            label("物流异常关闭", "anomalies closed"): [p.anomalies_closed for p in trend],
            label("中差评新开", "reviews opened"): [p.reviews_opened for p in trend],
            label("中差评关闭", "reviews closed"): [p.reviews_closed for p in trend],
        },
    )
    messages = trend_png(
        label(f"{title}：短信与催付", f"{title}: messages and reminders"),
        days,
        {
            label("短信发送", "texts sent"): [p.messages_sent for p in trend],
            label("短信拦截", "texts held back"): [p.messages_held for p in trend],
            label("催付发送", "reminders sent"): [p.reminders_sent for p in trend],
            label("催付成交", "paid after reminder"): [p.paid_after_reminder for p in trend],
        },
    )
    levels = trend_png(
        label(f"{title}：服务水平", f"{title}: service levels"),
        days,
        {
            label("24小时内通知买家", "buyers told within 24 h"): [
                p.notice_rate or 0.0 for p in trend
            ],
            label("中差评截止前处理", "reviews closed before deadline"): [
                p.review_rate or 0.0 for p in trend
            ],
        },
        percent=True,
    )
    return [("案例趋势", cases), ("短信与催付趋势", messages), ("服务水平趋势", levels)]


def team_report(
    day: date, names: dict[str, str], trend: dict[str, list[DayFigures]], detail: dict[str, Any]
) -> str:
    """The team's report: every shop today, the team's 14-day trend, the day's detail."""
    team = trend[TEAM]
    lines = [f"# 售后日报 {day}（北京时间）", "", "## 今日各店概览", "", *OVERVIEW_HEAD]
    lines.append(overview_row(TEAM, team[-1]))
    for code, name in names.items():
        if code in trend:
            lines.append(overview_row(name, trend[code][-1]))
    lines += ["", f"## 近 {len(team)} 天趋势（全部店铺）", "", *trend_charts("全部店铺", team)]
    lines += ["", *detail_lines(detail)]
    return "\n".join(lines)


def shop_report(day: date, name: str, trend: list[DayFigures]) -> str:
    """One shop's report: its day and its trend."""
    lines = [f"# 售后日报 {day} · {markdown_text(name, 30)}（北京时间）", "", *OVERVIEW_HEAD]
    lines += [overview_row(name, trend[-1]), "", f"## 近 {len(trend)} 天趋势", ""]
    lines += trend_charts(name, trend)
    return "\n".join(lines)


def detail_lines(figures: dict[str, Any]) -> list[str]:
    """The day's detail for the whole team, in the team's words."""
    lines = ["## 今日物流异常（按类型和快递）", "", "| 类型 | 快递 | 案例 |", "|---|---|---|"]
    lines += [
        f"| {ANOMALY_NAMES.get(kind, kind)} | {markdown_text(courier, 60)} | {n} |"
        for kind, courier, n in figures["anomalies"]
    ] or ["| 无 | | |"]
    closed = figures["reviews_closed"]
    held_back, failed = _by_wording(figures["held_back"]), _by_wording(figures["failed"])
    lines += [
        "",
        f"物流通知短信发送：{figures['notices_sent']} 条",
        "",
        "## 催付",
        "",
        f"发送 {figures['reminders_sent']} 条；提醒后付款 {figures['paid_after_reminder']} 单；"
        f"挽回金额 {figures['recovered_amount']} 元",
        "",
        "## 中差评",
        "",
        f"新开 {figures['reviews_opened']} 个；关闭："
        + ("，".join(f"{close_text(k)} {v}" for k, v in closed.items()) or "无"),
        "",
        "## 未发送与失败",
        "",
        # Reasons may quote a provider's own words: those stay literal (and inert).
        *[f"- 未发送：{markdown_text(k)}（{v}）" for k, v in held_back.items()],
        *[f"- **发送失败**：{markdown_text(k)}（{v}）" for k, v in failed.items()],
        f"- 最近一次查询失败的包裹：{figures['parcels_with_check_errors']} 个",
        *[
            f"- 跳过的错误数据（{SOURCE_NAMES.get(k, k)}）：{v}"
            for k, v in figures["rejected_records"].items()
        ],
    ]
    return lines


def _by_wording(counts: dict[str, int]) -> dict[str, int]:
    """Add up reasons that read the same once the provider's request ids are left out."""
    said: dict[str, int] = {}
    for reason, count in counts.items():
        words = REQUEST_ID.sub("", reason_text(reason))
        said[words] = said.get(words, 0) + count
    return said

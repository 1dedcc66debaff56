"""Courier scan wording: what each company's tracking lines look like, per kind of scan."""

from __future__ import annotations

from enum import Enum

from .geo import PROVINCE_BY_NAME, City


class Scan(Enum):
    """Kinds of tracking scans, each with its Kuaidi100 `state` and resultv2 `statusCode`."""

    # The third item only keeps members distinct: Enum would alias equal values.
    PICKED = (1, "103", "picked")
    DEPART = (0, "1002", "depart")
    ARRIVE = (0, "1003", "arrive")
    FILLER = (0, "1002", "filler")
    ARRIVE_DEST = (0, "1001", "arrive_dest")
    OUT = (5, "5", "out")
    SIGNED = (3, "301", "signed")
    PROXY = (3, "303", "proxy")
    PROBLEM = (2, "2", "problem")
    REFUSED = (14, "14", "refused")
    RETURNING = (6, "6", "returning")
    RETURN_DEPART = (6, "6", "return_depart")
    RETURN_ARRIVE = (6, "6", "return_arrive")
    RETURN_FILLER = (6, "6", "return_filler")
    RETURNED = (4, "4", "returned")

    @property
    def state(self) -> int:
        """Return the Kuaidi100 main state after this scan."""
        return self.value[0]

    @property
    def status_code(self) -> str:
        """Return the resultv2 sub-status code of this scan."""
        return self.value[1]

    @property
    def is_return(self) -> bool:
        """Tell whether the scan belongs to the journey back to the shop."""
        return self.state == 6


STATE_WORDS: dict[int, str] = {
    0: "在途",
    1: "揽收",
    2: "疑难",
    3: "签收",
    4: "退签",
    5: "派件",
    6: "退回",
    14: "拒签",
}

HUB_STYLE = {
    "yuantong": "{c}转运中心",
    "zhongtong": "{c}中转部",
    "shunfeng": "{c}集散中心",
    "yunda": "{c}分拨中心",
    "ems": "{c}邮件处理中心",
}

_COURIER_TEXTS: dict[str, dict[Scan, tuple[str, ...]]] = {
    "yuantong": {
        Scan.PICKED: (
            "【{city}】圆通速递 {obranch} 已揽收",
            "【{city}】{obranch}（点击查询电话）{pickman} 已揽收",
        ),
        Scan.DEPART: ("【{city}】快件离开【{place}】已发往【{next}】",),
        Scan.ARRIVE: ("【{city}】快件已经到达【{place}】",),
        Scan.ARRIVE_DEST: ("【{city}】快件已到达【{dbranch}】",),
        Scan.OUT: ("【{city}】{dbranch} 派件员：{man} 电话：{phone} 正在为您派件",),
        Scan.SIGNED: ("【{city}】快件已签收，签收人：本人，感谢使用圆通速递，期待再次为您服务",),
        Scan.PROXY: (
            "【{city}】您的快件已由【{station}】代签收，如有疑问请联系派件员 {man}（{phone}）",
            "【{city}】快件已签收，签收人：已由{station}代签收，感谢使用圆通速递，期待再次为您服务",
        ),
    },
    "zhongtong": {
        Scan.PICKED: ("【{city}】【{obranch}】 的 {pickman}（{pickphone}） 已揽收",),
        Scan.DEPART: ("【{city}】快件离开 【{place}】 已发往 【{next}】",),
        Scan.ARRIVE: ("【{city}】快件已经到达 【{place}】",),
        Scan.ARRIVE_DEST: ("【{city}】快件已到达 【{dbranch}】",),
        Scan.OUT: (
            "【{city}】【{dbranch}】 的{man}（{phone}） 正在第1次派件，请保持电话畅通，并耐心等待"
            "（95720为中通快递员外呼专属号码，请放心接听）",
        ),
        Scan.SIGNED: (
            "【{city}】快件已在 【{dbranch}】 签收，签收人：本人，"
            "如有疑问请电联：{man}（{phone}），投诉电话：95311，感谢使用中通快递，期待再次为您服务！",
        ),
        Scan.PROXY: (
            "【{city}】快件已被 【{station}】 代收，如有问题请电联：{man}（{phone}），"
            "感谢使用中通快递，期待再次为您服务！",
        ),
    },
    "shunfeng": {
        Scan.PICKED: (
            "【{city}】顺丰速运 已收取快件",
            "【{city}】快件已由{pickman}收取（{obranch}）",
        ),
        Scan.DEPART: ("【{city}】快件在【{place}】完成分拣，准备发往 【{next}】",),
        Scan.ARRIVE: ("【{city}】快件到达 【{place}】",),
        Scan.ARRIVE_DEST: ("【{city}】快件到达 【{dbranch}】",),
        Scan.OUT: (
            "【{city}】快件交给{man}，正在派送途中（联系电话：{phone}，"
            "顺丰已开启“安心派送”，请放心收寄快递）",
        ),
        Scan.SIGNED: ("【{city}】快件已签收，签收人：本人，感谢使用顺丰，期待再次为您服务",),
        Scan.PROXY: ("【{city}】快件已由【{station}】代收，如有疑问请联系派件员{man}（{phone}）",),
    },
    "yunda": {
        Scan.PICKED: ("【{city}】【{obranch}】已揽收",),
        Scan.DEPART: ("【{city}】【{place}】已发出 下一站【{next}】",),
        Scan.ARRIVE: ("【{city}】【{place}】已收入",),
        Scan.ARRIVE_DEST: ("【{city}】【{dbranch}】已收入",),
        Scan.OUT: ("【{city}】【{dbranch}】进行派件扫描；派送业务员：{man}；联系电话：{phone}",),
        Scan.SIGNED: ("【{city}】【{dbranch}】快件已被 本人 签收",),
        Scan.PROXY: ("【{city}】【{dbranch}】快件已被 {station} 代签收",),
    },
    "ems": {
        Scan.PICKED: ("【{city}】【{obranch}】已收寄，揽投员：{pickman}，电话：{pickphone}",),
        Scan.DEPART: ("【{city}】离开【{place}】，下一站【{next}】",),
        Scan.ARRIVE: ("【{city}】到达【{place}】",),
        Scan.ARRIVE_DEST: ("【{city}】到达【{dbranch}】",),
        Scan.OUT: ("【{city}】【{dbranch}】安排投递，投递员：{man}，电话：{phone}",),
        Scan.SIGNED: ("【{city}】已签收，本人签收，投递员：{man}，电话：{phone}，感谢使用EMS",),
        Scan.PROXY: ("【{city}】已签收，{station}代收，投递员：{man}，电话：{phone}",),
    },
}

_SHARED_TEXTS: dict[Scan, tuple[str, ...]] = {
    Scan.FILLER: (
        "【{city}】快件在【{place}】中转，正在发往【{next}】，因路途较远，请耐心等待",
        "【{city}】快件已从【{place}】发车，运输途中，预计下一站【{next}】",
    ),
    Scan.PROBLEM: (
        "【{city}】收件人电话无人接听，快件滞留在【{dbranch}】，"
        "请收件人尽快联系派件员 {man}（{phone}）",
        "【{city}】收件地址不详，无法派送，快件暂存【{dbranch}】，待与收件人核实地址",
        "【{city}】收件人电话关机，多次联系不上，快件滞留【{dbranch}】",
    ),
    Scan.REFUSED: (
        "【{city}】收件人拒收，快件将退回寄件人，如有疑问请联系派件员 {man}（{phone}）",
        "【{city}】快件已被拒签，拒签原因：收件人拒收",
    ),
    Scan.RETURNING: (
        "【{city}】快件退回中，退回原因：{reason}",
        "【{city}】快件退回中（{reason}），将原路退回寄件人",
    ),
    Scan.RETURN_DEPART: ("【{city}】退回件离开【{place}】已发往【{next}】",),
    Scan.RETURN_ARRIVE: ("【{city}】退回件已经到达【{place}】",),
    Scan.RETURN_FILLER: ("【{city}】退回件在【{place}】中转，正在发往【{next}】",),
    Scan.RETURNED: ("【{city}】退件已签收，签收人：寄件人 {shop}，感谢使用{courier}",),
}


def templates_for(com: str, scan: Scan) -> tuple[str, ...]:
    """Return the candidate context templates of one scan kind for one courier."""
    return _COURIER_TEXTS[com].get(scan) or _SHARED_TEXTS[scan]


def hub_name(com: str, city: City) -> str:
    """Name a courier's sorting hub in a city (杭州转运中心, 北京中转部 ...)."""
    return HUB_STYLE[com].format(c=city.short)


def district_short(district: str) -> str:
    """Drop the 区/县 suffix of a district for branch names (萧山区 -> 萧山)."""
    if len(district) > 2 and district[-1] in "区县":
        return district[:-1]
    return district


def _locality(city: City, district: str) -> str:
    """Join city and district without repeating a county-level city (喀什 + 喀什市)."""
    if district.startswith(city.short):
        return district
    return city.short + district


def origin_branch(com: str, city: City, district: str) -> str:
    """Name the branch that picks parcels up at the shop's warehouse."""
    province = PROVINCE_BY_NAME[city.province]
    prefix = "" if province.municipality else province.short
    if com == "yuantong":
        full_province = "" if province.municipality else province.name
        return f"{full_province}{city.name}{district}公司"
    if com == "zhongtong":
        return f"{city.short}{district_short(district)}"
    if com == "shunfeng":
        return f"{_locality(city, district)}营业点"
    if com == "yunda":
        return f"{prefix}{_locality(city, district)}公司"
    return f"{city.short}市邮政速递{district}揽投部"


def destination_branch(com: str, city: City, district: str, suffix: str) -> str:
    """Name the branch that delivers to the buyer (北京朝阳区欢乐谷公司 ...)."""
    province = PROVINCE_BY_NAME[city.province]
    prefix = "" if province.municipality else province.short
    place = _locality(city, district)
    if com == "yuantong":
        return f"{place}{suffix}公司"
    if com == "zhongtong":
        return f"{_locality(city, district_short(district))}{suffix}"
    if com == "shunfeng":
        return f"{place}{suffix}营业点"
    if com == "yunda":
        return f"{prefix}{place}{suffix}公司"
    return f"{place}{suffix}投递部"

"""Provinces, cities and districts the world ships to, with admin codes and courier hubs."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class City:
    """A prefecture-level city with its 6-digit administrative code."""

    province: str
    name: str
    code: str
    districts: tuple[str, ...]

    @property
    def short(self) -> str:
        """Return the name without its 市/地区 suffix (杭州市 -> 杭州)."""
        for suffix in ("地区", "市"):
            if self.name.endswith(suffix):
                return self.name[: -len(suffix)]
        return self.name

    @property
    def area_code(self) -> str:
        """Return the 12-digit area code Kuaidi100 uses (330100 -> 330100000000)."""
        return self.code + "000000"


@dataclass(frozen=True)
class Province:
    """A province-level region: its weight among buyers, hub city and remoteness."""

    name: str
    short: str
    weight: float
    hub: str
    remote: bool
    cities: tuple[City, ...]

    @property
    def municipality(self) -> bool:
        """Tell whether this is a city-province (北京, 上海, 天津, 重庆)."""
        return len(self.cities) == 1 and self.cities[0].short == self.short


def _p(
    name: str,
    short: str,
    weight: float,
    hub: str,
    cities: list[tuple[str, str, str]],
    *,
    remote: bool = False,
) -> Province:
    return Province(
        name=name,
        short=short,
        weight=weight,
        hub=hub,
        remote=remote,
        cities=tuple(City(name, c, code, tuple(d.split())) for c, code, d in cities),
    )


PROVINCES: tuple[Province, ...] = (
    _p(
        "浙江省",
        "浙江",
        12,
        "杭州",
        [
            ("杭州市", "330100", "西湖区 拱墅区 上城区 滨江区 萧山区 余杭区"),
            ("宁波市", "330200", "海曙区 鄞州区 北仑区"),
            ("温州市", "330300", "鹿城区 瓯海区 龙湾区"),
            ("湖州市", "330500", "吴兴区 南浔区"),
            ("金华市", "330700", "婺城区 义乌市"),
        ],
    ),
    _p(
        "广东省",
        "广东",
        14,
        "广州",
        [
            ("广州市", "440100", "天河区 越秀区 海珠区 白云区 番禺区"),
            ("深圳市", "440300", "南山区 福田区 宝安区 龙岗区"),
            ("东莞市", "441900", "南城街道 东城街道 长安镇"),
            ("佛山市", "440600", "禅城区 南海区 顺德区"),
        ],
    ),
    _p(
        "江苏省",
        "江苏",
        10,
        "南京",
        [
            ("南京市", "320100", "玄武区 鼓楼区 江宁区 建邺区"),
            ("苏州市", "320500", "姑苏区 吴中区 昆山市 吴江区"),
            ("无锡市", "320200", "梁溪区 滨湖区"),
            ("南通市", "320600", "崇川区 通州区"),
        ],
    ),
    _p(
        "上海",
        "上海",
        8,
        "上海",
        [
            ("上海市", "310100", "浦东新区 徐汇区 闵行区 静安区 杨浦区 松江区"),
        ],
    ),
    _p(
        "北京",
        "北京",
        7,
        "北京",
        [
            ("北京市", "110100", "朝阳区 海淀区 丰台区 东城区 西城区 通州区 昌平区"),
        ],
    ),
    _p(
        "四川省",
        "四川",
        6,
        "成都",
        [
            ("成都市", "510100", "武侯区 锦江区 青羊区 成华区 双流区"),
            ("绵阳市", "510700", "涪城区 游仙区"),
        ],
    ),
    _p(
        "湖北省",
        "湖北",
        5,
        "武汉",
        [
            ("武汉市", "420100", "洪山区 武昌区 江汉区 江岸区"),
            ("宜昌市", "420500", "西陵区 伍家岗区"),
        ],
    ),
    _p(
        "山东省",
        "山东",
        6,
        "济南",
        [
            ("济南市", "370100", "历下区 市中区 槐荫区"),
            ("青岛市", "370200", "市南区 崂山区 黄岛区"),
            ("烟台市", "370600", "芝罘区 莱山区"),
        ],
    ),
    _p(
        "河南省",
        "河南",
        5,
        "郑州",
        [
            ("郑州市", "410100", "金水区 二七区 中原区"),
            ("洛阳市", "410300", "涧西区 西工区"),
        ],
    ),
    _p("湖南省", "湖南", 4, "长沙", [("长沙市", "430100", "岳麓区 芙蓉区 天心区")]),
    _p(
        "福建省",
        "福建",
        4,
        "福州",
        [
            ("福州市", "350100", "鼓楼区 仓山区"),
            ("厦门市", "350200", "思明区 湖里区"),
        ],
    ),
    _p("安徽省", "安徽", 3, "合肥", [("合肥市", "340100", "蜀山区 包河区 庐阳区")]),
    _p("陕西省", "陕西", 3, "西安", [("西安市", "610100", "雁塔区 碑林区 未央区")]),
    _p("重庆", "重庆", 3, "重庆", [("重庆市", "500100", "渝中区 江北区 渝北区")]),
    _p("天津", "天津", 2, "天津", [("天津市", "120100", "和平区 南开区 河西区")]),
    _p("河北省", "河北", 3, "石家庄", [("石家庄市", "130100", "长安区 桥西区 裕华区")]),
    _p(
        "辽宁省",
        "辽宁",
        2,
        "沈阳",
        [
            ("沈阳市", "210100", "和平区 沈河区 皇姑区"),
            ("大连市", "210200", "中山区 沙河口区"),
        ],
    ),
    _p("云南省", "云南", 2, "昆明", [("昆明市", "530100", "五华区 盘龙区 官渡区")]),
    _p("广西壮族自治区", "广西", 2, "南宁", [("南宁市", "450100", "青秀区 西乡塘区")]),
    _p("甘肃省", "甘肃", 1, "兰州", [("兰州市", "620100", "城关区 七里河区")]),
    _p(
        "新疆维吾尔自治区",
        "新疆",
        1.2,
        "乌鲁木齐",
        [
            ("乌鲁木齐市", "650100", "天山区 沙依巴克区 新市区"),
            ("喀什地区", "653100", "喀什市 疏附县"),
        ],
        remote=True,
    ),
    _p("西藏自治区", "西藏", 0.6, "拉萨", [("拉萨市", "540100", "城关区 堆龙德庆区")], remote=True),
    _p("青海省", "青海", 0.8, "西宁", [("西宁市", "630100", "城西区 城东区 城中区")], remote=True),
)

PROVINCE_BY_NAME: dict[str, Province] = {p.name: p for p in PROVINCES}
CITY_BY_SHORT: dict[str, City] = {c.short: c for p in PROVINCES for c in p.cities}
CITY_BY_NAME: dict[str, City] = {c.name: c for p in PROVINCES for c in p.cities}

# Trunk hubs a parcel passes on the long haul into a remote region.
REMOTE_VIA: dict[str, tuple[str, ...]] = {
    "新疆维吾尔自治区": ("郑州", "兰州"),
    "西藏自治区": ("成都",),
    "青海省": ("西安", "兰州"),
}

# Neighbourhood names that make delivery branches read like real ones (北京朝阳区欢乐谷公司).
BRANCH_SUFFIXES = (
    "欢乐谷",
    "望京",
    "城东",
    "城西",
    "开发区",
    "新区",
    "高新",
    "大学城",
    "火车站",
    "中心",
    "东湖",
    "万达",
    "科技园",
    "南门",
    "北苑",
)

STREETS = (
    "人民路",
    "解放路",
    "中山路",
    "建设路",
    "和平路",
    "新华路",
    "文化路",
    "胜利路",
    "长江路",
    "黄河路",
    "幸福路",
    "光明路",
    "青年路",
    "北京路",
    "南京路",
    "东风路",
    "文一西路",
    "学院路",
    "滨江大道",
    "世纪大道",
)

COMMUNITIES = (
    "阳光花园",
    "翠苑小区",
    "金色家园",
    "万科城",
    "绿地新都会",
    "碧桂园",
    "世纪花园",
    "幸福里",
    "锦绣江南",
    "滨江花园",
    "新城国际",
    "保利香槟",
    "龙湖天街",
    "华润凯旋门",
)


def city_of(province: str, city: str) -> City:
    """Return the City record for a province/city pair."""
    for candidate in PROVINCE_BY_NAME[province].cities:
        if candidate.name == city:
            return candidate
    raise KeyError(f"{province}/{city}")


def area_name(city: City) -> str:
    """Render a Kuaidi100-style area name (浙江,杭州市; 上海市 for city-provinces)."""
    province = PROVINCE_BY_NAME[city.province]
    if province.municipality:
        return city.name
    return f"{province.short},{city.name}"

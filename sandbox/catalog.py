"""Names, nicks and product titles that make the generated world read like a real shop's."""

from __future__ import annotations

from dataclasses import dataclass

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程"
    "苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛段雷侯龙史陶黎贺顾毛郝龚邵"
)

GIVEN_CHARS = (
    "丽娜静敏燕艳芳婷雪慧晶颖琳欣悦佳怡萍红霞梅兰玉秀伟强磊洋勇军杰涛斌超明刚平辉鹏华飞鑫波宇浩"
    "凯健俊帆旭宁龙林阳晨思梓涵雨可心嘉雅文晓诗梦瑶倩婉琪璐峰博然轩"
)

NICK_WORDS = (
    "小鱼儿",
    "糖糖妈咪",
    "爱吃鱼的猫",
    "木子李",
    "阳光宝贝",
    "快乐的小猪",
    "静待花开",
    "蓝色天空",
    "安静的美男子",
    "小兔子乖乖",
    "奶茶不加糖",
    "向日葵",
    "豆豆妈",
    "一只小胖子",
    "橙子味的夏天",
    "老王家的媳妇",
    "晴天娃娃",
    "草莓味",
    "懒懒的猫",
    "追风少年",
    "大大大白",
    "喵小姐",
)

PINYIN_NICKS = (
    "zhangwei",
    "lili",
    "wangfang",
    "xiaoxiao",
    "liuyang",
    "chenjing",
    "yangyang",
    "huanghui",
    "zhaolei",
    "zhouxin",
    "momo",
    "tiantian",
    "sunny",
    "candy",
    "lucky",
)

COURIER_NAMES: dict[str, str] = {
    "yuantong": "圆通速递",
    "zhongtong": "中通快递",
    "shunfeng": "顺丰速运",
    "yunda": "韵达快递",
    "ems": "EMS",
}

UNKNOWN_COURIER_NAME = "神秘物流"

# Couriers Kuaidi100 knows in the sandbox; shentong and jtexpress carry no parcels here.
KUAIDI100_COMS = ("yuantong", "zhongtong", "shunfeng", "yunda", "ems", "shentong", "jtexpress")

COURIER_WEIGHTS: tuple[tuple[str, float], ...] = (
    ("yuantong", 38),
    ("zhongtong", 25),
    ("yunda", 15),
    ("shunfeng", 14),
    ("ems", 8),
)


@dataclass(frozen=True)
class Product:
    """One listing of a shop: title, category id and a price range in yuan."""

    title: str
    cid: int
    low: int
    high: int


PRODUCTS: dict[str, tuple[Product, ...]] = {
    "sishi": (
        Product("丝施无钢圈文胸女聚拢小胸收副乳调整型内衣", 50008881, 69, 159),
        Product("丝施蕾丝性感内裤女中腰纯棉裆三条装", 50008882, 39, 89),
        Product("丝施真丝睡衣女夏季桑蚕丝短袖家居服套装", 50012772, 199, 459),
        Product("丝施无痕一片式运动文胸防震跑步背心", 50008881, 79, 139),
        Product("丝施收腹提臀高腰塑身裤产后束腰", 50012781, 59, 129),
        Product("丝施冰丝无痕内衣女薄款大胸显小文胸", 50008881, 89, 169),
        Product("丝施纯棉吊带背心女内搭打底", 50012776, 29, 59),
        Product("丝施法式三角杯蕾丝内衣套装", 50008883, 129, 259),
    ),
    "xiaoya": (
        Product("小雅家居北欧陶瓷餐具套装家用碗碟筷组合", 50008163, 89, 299),
        Product("小雅家居全棉四件套床上用品纯棉被套床单", 50001871, 159, 499),
        Product("小雅家居记忆棉慢回弹枕头护颈椎枕", 50001865, 69, 199),
        Product("小雅家居加厚珊瑚绒毛毯办公室午睡盖毯", 50002777, 49, 129),
        Product("小雅家居收纳箱塑料特大号衣物整理箱3个装", 50016349, 59, 139),
        Product("小雅家居香薰蜡烛礼盒卧室持久香氛", 50020824, 39, 119),
        Product("小雅家居硅藻泥浴室吸水地垫防滑脚垫", 50019491, 29, 79),
        Product("小雅家居日式玻璃杯耐热家用水杯6只装", 50008167, 35, 89),
    ),
    "mumu": (
        Product("木木童装女童连衣裙新款洋气儿童公主裙", 50010537, 79, 189),
        Product("木木童装男童加绒卫衣秋冬中大童上衣", 50010527, 69, 149),
        Product("木木童装儿童羽绒服轻薄款男女童短款外套", 50010531, 159, 399),
        Product("木木童装宝宝纯棉家居服套装婴儿秋衣秋裤", 50012412, 49, 109),
        Product("木木童装女童打底裤春秋外穿弹力裤", 50010540, 29, 69),
        Product("木木童装儿童牛仔裤男童休闲长裤", 50010540, 59, 129),
        Product("木木童装亲子装一家三口卫衣", 50010527, 99, 259),
        Product("木木童装女童汉服古风夏季儿童襦裙", 50010537, 89, 199),
    ),
    "guoyuan": (
        Product("烟台红富士苹果新鲜水果当季整箱10斤", 6398, 29, 69),
        Product("栖霞苹果脆甜红富士5斤装", 6398, 19, 39),
        Product("烟台大樱桃车厘子3斤礼盒", 6401, 89, 199),
        Product("莱阳梨新鲜梨子5斤", 6399, 19, 45),
    ),
}

# Where parcels wait when nobody is home; reused by proxy-signature scans.
PROXY_PLACES = ("菜鸟驿站", "门卫", "丰巢智能快递柜", "妈妈驿站", "兔喜生活", "公司前台", "家人")

# Every shop keeps a "补差价" listing buyers use to pay a few yuan of difference or postage.
TOP_UP_TITLE = "补差价专拍链接 邮费差价 差多少拍多少"
TOP_UP_CID = 50023724

# Categories of goods that are worn or slept in (textiles); the rest are hard goods.
TEXTILE_CIDS = frozenset(
    {50008881, 50008882, 50008883, 50012772, 50012776, 50012781, 50001871, 50002777}
    | {50010527, 50010531, 50010537, 50010540, 50012412}
)
# Clothes come in sizes; bedding and home goods do not.
SIZED_CIDS = frozenset(TEXTILE_CIDS - {50001871, 50002777})

"""What buyers write in ratings: texts per cause, result and kind of goods."""

from __future__ import annotations

from .catalog import SIZED_CIDS, TEXTILE_CIDS
from .dice import Dice
from .ratings import BAD

# cause -> result -> goods kind ("sized" clothes, "textile", "goods", "any") -> texts.
NEGATIVE: dict[str, dict[str, dict[str, tuple[str, ...]]]] = {
    "quality": {
        "neutral": {
            "sized": (
                "穿了一次就起球了，质量一般般",
                "线头有点多，做工一般，凑合穿吧",
                "洗了一次有点掉色，其他还行",
                "领口的走线是歪的，质量一般",
            ),
            "textile": (
                "用了一次就起球了，质量一般般",
                "有点掉毛，洗了一次好些了",
                "边上线头很多，做工一般",
            ),
            "goods": (
                "做工一般，边缘有毛刺，用着不太舒服",
                "有一个底部有小黑点，将就用吧",
                "用了几天盖子就扣不紧了，质量一般",
            ),
        },
        "bad": {
            "sized": (
                "质量太差了，才穿两次就开线了",
                "洗一次掉色掉得厉害，把别的衣服都染了，差评",
                "起球严重，穿了一天就全是球，和图片上完全不是一个东西",
                "面料又薄又廉价，洗完就变形了，不值这个价",
                "肩带那里直接开线了，这质量还敢卖这么贵",
            ),
            "textile": (
                "洗了一次就掉色，床单都花了，差评",
                "掉毛严重，盖一晚上粘得满身都是",
                "被套边上直接开线了，质量太差",
                "起球起得厉害，用了一个星期就不能看了",
            ),
            "goods": (
                "质量太差，收到就有一个裂了",
                "塑料很薄，一压就裂，用了三天就坏了，差评",
                "做工粗糙，边上全是毛刺，质量太差了",
            ),
        },
    },
    "wrong_item": {
        "neutral": {
            "sized": ("发错尺码了，拍的M码收到L码，懒得换了",),
            "any": (
                "发错颜色了，拍的米白色收到的是灰色，将就用吧",
                "少发了一个赠品，说好的送的没有",
            ),
        },
        "bad": {
            "sized": (
                "发错货了！拍的110码发来130码，还让我自己出运费退换",
                "拍的是套装，只收到上衣，裤子没有，差评",
            ),
            "any": (
                "少发了一件，包裹里少了一样东西，找客服还要我拍照证明",
                "发错货了，跟我拍的完全不是一个款，耽误事",
                "拍了两件只收到一件，另一件问了也没个说法",
            ),
        },
    },
    "description": {
        "neutral": {
            "sized": (
                "尺码偏小，建议买大一码",
                "有色差，实物比图片暗很多",
                "有点味道，晾了两天还有",
            ),
            "any": (
                "和图片有色差，没有图上好看",
                "尺寸比描述的小一圈，有点失望",
                "有股气味，散了几天才好点",
            ),
        },
        "bad": {
            "sized": (
                "尺码严重不对，按尺码表买的根本穿不上",
                "色差太大了，图片是粉色收到是橘色",
                "一打开一股刺鼻的异味，洗了两遍还有，不敢穿",
            ),
            "any": (
                "实物和图片差别太大，图片严重美化，和描述不符",
                "说是加厚的，实际薄得要命，描述不实",
                "气味很大，放在卧室熏得头疼",
            ),
        },
    },
    "logistics": {
        "neutral": {
            "any": (
                "物流太慢了，等了一个多星期才到",
                "外包装都压坏了，好在东西没事",
                "快递员态度不好，直接扔驿站也不打个电话",
            ),
        },
        "bad": {
            "any": (
                "物流慢得离谱，半个月才收到，急用的都耽误了",
                "包装破损，东西都压变形了，差评",
                "快递员态度极差，打电话还凶人，以后不会买了",
                "物流好几天不更新，问客服也说不清楚，差评",
            ),
        },
    },
    "service": {
        "neutral": {
            "any": (
                "客服回复太慢了，问了半天才回一句",
                "客服态度一般，问问题爱答不理的",
            ),
        },
        "bad": {
            "any": (
                "客服态度太差了，问个问题直接不理人",
                "有问题找客服一直不回复，售后形同虚设",
                "客服说话很冲，退换货推来推去，再也不来了",
            ),
        },
    },
    "mood": {
        "neutral": {
            "any": (
                "一般般吧",
                "不太喜欢，没有想象中好",
                "感觉不值这个价",
                "就那样吧，凑合",
                "收到了，一般",
            ),
        },
        "bad": {
            "any": (
                "不喜欢，感觉不值这个价",
                "一般般吧，不会再买了",
                "没有想象中好，挺失望的",
            ),
        },
    },
    "malicious": {
        "neutral": {
            "any": (
                "同款别家便宜一半，大家去看看 http://t.cn/A6xYz0q",
                "呵呵，懂的都懂",
            ),
        },
        "bad": {
            "any": (
                "差评 差评 差评",
                "垃圾店铺，黑心商家，大家千万别买！！！",
                "假货！！！真相看这里 www.tb-zhenxiang.cn",
                "加V信 tb88866 领同款更便宜，这家太坑",
                "差差差差差差差差差差差差",
                "这种店也能开？老板就是骗子，建议平台封店",
            ),
        },
    },
}

POSITIVE: dict[str, tuple[str, ...]] = {
    "any": (
        "物流很快，包装完好，东西不错",
        "第二次买了，一如既往的好",
        "宝贝收到了，和描述的一样，好评！",
        "性价比很高，会回购的",
        "客服很耐心，推荐的很合适",
        "好评",
        "不错不错，挺满意的",
        "东西挺好的，就是物流慢了点",
    ),
    "sized": (
        "质量很好，穿着很舒服，好评",
        "尺码标准，上身效果很好",
        "做工精细，没有线头，满意",
    ),
    "textile": (
        "面料很软很舒服，洗了也没掉色",
        "做工精细，没有线头，满意",
    ),
    "goods": (
        "做工不错，很精致，家里人都说好看",
        "包装很仔细，一个都没碎，好评",
    ),
}
# What Taobao writes when a buyer lets the rating period pass.
SYSTEM_DEFAULT = "评价方未及时做出评价,系统默认好评!"

# What a buyer writes when revising to good, by what the complaint was about.
REVISED: dict[str, tuple[str, ...]] = {
    "quality": ("客服很负责，帮我换了新的，问题解决了，改个好评", "换的新的收到了，这次没问题"),
    "wrong_item": ("补发的收到了，挺好的", "卖家很快补发了，态度很好，改好评"),
    "description": ("客服耐心解释了，换了合适的尺码，好评", "卖家主动联系处理了，态度很好，好评"),
    "logistics": ("卖家帮忙催了快递，后来送上门了，东西挺好", "不是卖家的问题，东西不错"),
    "service": ("客服后来主动道歉了，也解决了问题，改个好评",),
    "mood": ("之前是误会，后来仔细看了东西还可以", "用了几天觉得还不错，改个好评"),
}

FOLLOW_UP_UNHAPPY = (
    "用了一周，问题更明显了，不推荐",
    "追评：说好给处理，到现在也没人联系",
    "又用了几天，还是不行，不会再买了",
)
FOLLOW_UP_RESOLVED = (
    "追评：客服后来主动联系了，给处理好了，态度很好",
    "问题解决了，这次没问题",
)


def goods_kind(cid: int) -> str:
    """Classify a category for the texts: sized clothes, other textiles or hard goods."""
    if cid in SIZED_CIDS:
        return "sized"
    return "textile" if cid in TEXTILE_CIDS else "goods"


def negative_text(rng: Dice, cause: str, result: str, cid: int) -> str:
    """Pick what a buyer writes for a neutral or bad rating of a cause."""
    by_kind = NEGATIVE[cause][result]
    own = by_kind.get(goods_kind(cid))
    if own is None or ("any" in by_kind and rng.chance(0.4)):
        return rng.pick(by_kind["any"])
    return rng.pick(own)


def positive_text(rng: Dice, cid: int) -> str:
    """Pick a good rating's text (now and then Taobao's default good rating)."""
    if rng.chance(0.15):
        return SYSTEM_DEFAULT
    return rng.pick(POSITIVE[goods_kind(cid)] if rng.chance(0.5) else POSITIVE["any"])


def revised_text(rng: Dice, cause: str) -> str:
    """Pick what a buyer writes when revising a rating about `cause` to good."""
    return rng.pick(REVISED.get(cause) or REVISED["mood"])


def follow_up_text(rng: Dice, cause: str, result: str, *, resolved: bool) -> str:
    """Pick a follow-up review (追评) text."""
    if cause == "malicious":
        return rng.pick(NEGATIVE["malicious"]["bad"]["any"])
    if resolved:
        return rng.pick(FOLLOW_UP_RESOLVED)
    text = rng.pick(FOLLOW_UP_UNHAPPY)
    return text + ("，差评不改" if result == BAD and rng.chance(0.3) else "")

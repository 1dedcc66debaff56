"""Local stand-ins for Kuaidi100, Taobao TOP, Alibaba Cloud SMS and a DingTalk robot."""

from .app import Sandbox, serve_forever
from .clock import SimClock
from .config import FaultConfig, SandboxConfig
from .confirmations import Confirmation
from .dingtalk import RobotMessage, robot_sign
from .faults import Fault, FaultInjector
from .generator import build_world
from .kuaidi100 import Subscription
from .kuaidi100_push import BurstResult, PushAttempt, PushRecord, push_sign
from .members import MEMBER_FIELDS, Member, members_csv
from .optouts import OPT_OUT_WORDS
from .ratings import CAUSES, Explanation, RateWire, Rating
from .scenarios import SCENARIOS
from .shipment import ShipmentScenario
from .shops import ALL_SHOPS, CREDENTIALS, SHOPS, Shop
from .sms import SmsRecord
from .stats import SandboxStats
from .timeline import TrackEvent
from .uplink import UplinkAttempt, UplinkRecord, uplink_signature
from .world import Buyer, Conversion, Fate, OrderLine, Trade, World

__all__ = [
    "ALL_SHOPS",
    "CAUSES",
    "CREDENTIALS",
    "MEMBER_FIELDS",
    "OPT_OUT_WORDS",
    "SCENARIOS",
    "SHOPS",
    "BurstResult",
    "Buyer",
    "Confirmation",
    "Conversion",
    "Explanation",
    "Fate",
    "Fault",
    "FaultConfig",
    "FaultInjector",
    "Member",
    "OrderLine",
    "PushAttempt",
    "PushRecord",
    "RateWire",
    "Rating",
    "RobotMessage",
    "Sandbox",
    "SandboxConfig",
    "SandboxStats",
    "ShipmentScenario",
    "Shop",
    "SimClock",
    "SmsRecord",
    "Subscription",
    "TrackEvent",
    "Trade",
    "UplinkAttempt",
    "UplinkRecord",
    "World",
    "build_world",
    "members_csv",
    "push_sign",
    "robot_sign",
    "serve_forever",
    "uplink_signature",
]

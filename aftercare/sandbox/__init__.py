"""Local stand-ins for Kuaidi100, Taobao TOP, Alibaba Cloud SMS and a DingTalk robot."""

from .app import Sandbox, serve_forever
from .clock import SimClock
from .config import FaultConfig, SandboxConfig
from .dingtalk import RobotMessage, robot_sign
from .faults import Fault, FaultInjector
from .generator import build_world
from .kuaidi100 import Subscription
from .ratings import CAUSES, Explanation, RateWire, Rating
from .scenarios import SCENARIOS
from .shipment import ShipmentScenario
from .shops import CREDENTIALS, SHOPS, Shop
from .sms import SmsRecord
from .stats import SandboxStats
from .timeline import TrackEvent
from .world import Buyer, Conversion, Fate, OrderLine, Trade, World

__all__ = [
    "CAUSES",
    "CREDENTIALS",
    "SCENARIOS",
    "SHOPS",
    "Buyer",
    "Conversion",
    "Explanation",
    "Fate",
    "Fault",
    "FaultConfig",
    "FaultInjector",
    "OrderLine",
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
    "World",
    "build_world",
    "robot_sign",
    "serve_forever",
]

"""Local stand-ins for Kuaidi100, Taobao TOP and Alibaba Cloud SMS, for demos and tests."""

from .app import Sandbox, serve_forever
from .clock import SimClock
from .config import FaultConfig, SandboxConfig
from .faults import Fault, FaultInjector
from .generator import build_world
from .kuaidi100 import Subscription
from .scenarios import SCENARIOS
from .shipment import ShipmentScenario
from .shops import CREDENTIALS, SHOPS, Shop
from .sms import SmsRecord
from .stats import SandboxStats
from .timeline import TrackEvent
from .world import Buyer, OrderLine, Trade, World

__all__ = [
    "CREDENTIALS",
    "SCENARIOS",
    "SHOPS",
    "Buyer",
    "Fault",
    "FaultConfig",
    "FaultInjector",
    "OrderLine",
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
    "serve_forever",
]

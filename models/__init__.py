"""SQLModel tables, the engine and sessions, and the migrations that create them."""

from models.case import AfterSalesCase, CaseEvent
from models.order import Order, OrderItem
from models.outbox import OutboxMessage, OutboxStatus
from models.rejected import RejectedRecord
from models.shipment import Shipment, TrackingEvent
from models.shop import Customer, Shop
from models.sync import SyncCursor

__all__ = [
    "AfterSalesCase",
    "CaseEvent",
    "Customer",
    "Order",
    "OrderItem",
    "OutboxMessage",
    "OutboxStatus",
    "RejectedRecord",
    "Shipment",
    "Shop",
    "SyncCursor",
    "TrackingEvent",
]

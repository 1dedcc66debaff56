"""SQLModel tables, the engine and sessions, and the migrations that create them."""

from models.alert import StaffAlert
from models.case import AfterSalesCase, CaseEvent
from models.contacts import BlacklistEntry, ContactGap, ContactSlot, OptOut, WebhookReceipt
from models.decryption import OaidDecryptionDay
from models.inbox import TrackingPush
from models.order import Order, OrderItem
from models.outbox import OutboxMessage, OutboxStatus
from models.platform_message import PlatformMessage
from models.refund import Refund, RefundAction
from models.register import RegisteredProblem
from models.rejected import RejectedRecord
from models.reminder import ReminderConversion
from models.return_parcel import ReturnParcel
from models.review import Review
from models.shipment import Shipment, TrackingEvent
from models.shop import Customer, Shop
from models.sync import SyncCursor
from models.workbench import PhoneReveal, WorkbenchSession, WorkbenchUser

__all__ = [
    "AfterSalesCase",
    "BlacklistEntry",
    "CaseEvent",
    "ContactGap",
    "ContactSlot",
    "Customer",
    "OaidDecryptionDay",
    "OptOut",
    "Order",
    "OrderItem",
    "OutboxMessage",
    "OutboxStatus",
    "PhoneReveal",
    "PlatformMessage",
    "Refund",
    "RefundAction",
    "RegisteredProblem",
    "RejectedRecord",
    "ReminderConversion",
    "ReturnParcel",
    "Review",
    "Shipment",
    "Shop",
    "StaffAlert",
    "SyncCursor",
    "TrackingEvent",
    "TrackingPush",
    "WebhookReceipt",
    "WorkbenchSession",
    "WorkbenchUser",
]

"""Asking the courier about one parcel, every failure turned into an outcome to record."""

from __future__ import annotations

from datetime import timedelta

from aftercare.clients.errors import AuthenticationError, ProviderError
from aftercare.clients.kuaidi100 import Kuaidi100Client, WaybillLocked
from aftercare.store.shipments import CheckOutcome, ShipmentToCheck


def check_parcel(courier: Kuaidi100Client, parcel: ShipmentToCheck) -> CheckOutcome:
    """Ask the courier about one parcel; every failure but a refused key is an outcome."""
    code, detected = parcel.courier, None
    try:
        if code is None:
            # A name our table does not know: Kuaidi100 recognises the number itself (free).
            detected = next(iter(courier.detect_courier(parcel.waybill)), None)
            if detected is None:
                return CheckOutcome(
                    parcel.id,
                    error=f"unknown courier {parcel.courier_name}: "
                    "Kuaidi100 does not recognise the waybill either",
                    queried=False,
                )
            code = detected
        result = courier.query(
            code, parcel.waybill, phone=parcel.phone, destination=parcel.destination
        )
    except AuthenticationError:
        raise  # every other parcel would fail the same way: stop and let the run fail loudly
    except WaybillLocked as error:
        return CheckOutcome(
            parcel.id,
            error=error.reason,
            retry_after=timedelta(minutes=31),
            detected_courier=detected,
        )
    except ProviderError as error:
        return CheckOutcome(parcel.id, error=error.reason, detected_courier=detected)
    return CheckOutcome(parcel.id, result=result, detected_courier=detected)

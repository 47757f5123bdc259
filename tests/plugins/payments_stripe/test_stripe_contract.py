"""The Stripe gateway honours the PaymentGateway contract, against the Stripe simulator."""
from __future__ import annotations

import pytest

from backhaul.sdk.testing.contracts import PaymentGatewayContract


class TestStripeGateway(PaymentGatewayContract):
    approved_method = "pm_card_visa"
    declined_method = "pm_card_chargeDeclined"

    @pytest.fixture
    def sim_ref(self, sim):
        self._sim = sim
        return sim

    @pytest.fixture
    def gateway(self, gateway, sim_ref):
        return gateway

    def signed_webhook(self, gateway, reference):
        event = next(e for e in reversed(self._sim.events)
                     if e["data"]["object"].get("id") == reference)
        return self._sim.signed(event)

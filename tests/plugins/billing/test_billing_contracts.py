"""Billing's built-in service types honour the ServiceType contract of the SDK."""
from __future__ import annotations

import pytest

from backhaul.plugins.billing import catalogue
from backhaul.sdk.testing.contracts import ServiceTypeContract


class TestDataService(ServiceTypeContract):
    valid_parameters = [{"download_mbps": 100, "upload_mbps": 20},
                        {"download_mbps": 1000, "upload_mbps": 1000, "burst_download_mbps": 1200,
                         "allowance_gb": 500}]
    invalid_parameters = [{}, {"download_mbps": 0, "upload_mbps": 10},
                          {"download_mbps": 10, "upload_mbps": 10, "colour": "red"}]

    @pytest.fixture
    def service_type(self):
        return catalogue.DataService()


class TestVoiceService(ServiceTypeContract):
    valid_parameters = [{}, {"phone_lines": 2, "included_minutes": 600}]
    invalid_parameters = [{"phone_lines": 0}, {"included_minutes": -1}]

    @pytest.fixture
    def service_type(self):
        return catalogue.VoiceService()


class TestGeneralService(ServiceTypeContract):
    valid_parameters = [{"channels": ["news", "sport"]}, {"extra_gb": 100}]
    invalid_parameters = [{"channels": "news"}, {"extra_gb": -5}]

    @pytest.fixture
    def service_type(self):
        return catalogue.GeneralService()


class TestRecurringService(ServiceTypeContract):
    valid_parameters = [{}]
    invalid_parameters = [{"speed": 100}]

    @pytest.fixture
    def service_type(self):
        return catalogue.RecurringService()


class TestOneTimeService(ServiceTypeContract):
    valid_parameters = [{}]
    invalid_parameters = [{"anything": 1}]

    @pytest.fixture
    def service_type(self):
        return catalogue.OneTimeService()

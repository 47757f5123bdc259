"""Everything in the UI is a GraphQL field: walk every state-changing route of the app with
every plugin, and fail when one is not in the reviewed table below — mapped to the mutation(s)
that do the same thing behind the same permission, or exempt with the reason.

Adding a POST route? Add its mutation and a row here (the review is the point). A mapped
mutation must exist in the schema and require the route's permission (a session-only route
maps to a ``@public`` mutation, which acts on the signed-in principal).
"""
from __future__ import annotations

import pytest

from backhaul.core.auth.decorators import view_requirements
from backhaul.core.graphql.permissions import field_rule

#: endpoint -> the mutations behind its form (all of them exist and need its permission)
MAPPED: dict[str, tuple[str, ...]] = {
    # inventory
    "inventory.item_move": ("inventoryMoveItem",),
    "inventory.item_assign": ("inventoryAssignItem",),
    "inventory.item_return": ("inventoryReturnItem",),
    "inventory.item_retire": ("inventoryRetireItem",),
    "inventory.item_edit": ("inventoryUpdateItem",),
    "inventory.item_swap": ("scheduleEvent",),
    "inventory.import_csv": ("inventoryImportItems",),
    "inventory.manufacturer_new": ("inventoryCreateManufacturer",),
    "inventory.model_new": ("inventoryCreateModel",),
    "inventory.model_fields": ("inventoryUpdateModelFields",),
    "inventory.threshold_set": ("inventorySetThreshold",),
    "inventory.location_new": ("inventoryCreateLocation",),
    "inventory.location_edit": ("inventoryUpdateLocation",),
    "inventory.model_edit": ("inventoryUpdateModel",),
    "inventory.manufacturer_rename": ("inventoryRenameManufacturer",),
    "inventory.intake_receive": ("inventoryReceiveItems",),
    # scheduling
    "scheduling.job_create": ("schedulingCreateJob",),
    "scheduling.job_book": ("schedulingBookJob",),
    "scheduling.job_task": ("schedulingSetTask",),
    "scheduling.job_complete": ("schedulingCompleteJob", "schedulingCancelJob"),
    "scheduling.type_new": ("schedulingSaveJobType",),
    "scheduling.technician_new": ("schedulingSaveTechnician",),
    "scheduling.job_item_add": ("schedulingAddJobItem",),
    "scheduling.job_item_remove": ("schedulingRemoveJobItem",),
    # tickets
    "tickets.create": ("ticketsOpenTicket",),
    "tickets.reply": ("ticketsReply", "ticketsAddNote"),
    "tickets.update": ("ticketsUpdateTicket",),
    "tickets.release": ("ticketsReleaseInboundMail",),
    "tickets.group_new": ("ticketsSaveGroup",),
    "tickets.category_new": ("ticketsSaveCategory",),
    "tickets.address_new": ("ticketsSaveInboundAddress",),
    "tickets.canned_new": ("ticketsSaveCannedReply",),
    "tickets.canned_save": ("ticketsSaveCannedReply",),
    "tickets.mailbox_new": ("ticketsSaveImapMailbox",),
    "tickets.mailbox_save": ("ticketsSaveImapMailbox",),
    "tickets.mailbox_fetch": ("ticketsFetchImapMailbox",),
    "tickets.view_save": ("ticketsSaveView",),
    "tickets.view_delete": ("ticketsDeleteView",),
    # network
    "network.site_new": ("networkCreateSite",),
    "network.subnet_new": ("networkCreateSubnet",),
    "network.device_reconcile": ("networkReconcileDevice",),
    "network.device_test": ("networkTestDevice",),
    "network.device_new": ("networkCreateDevice",),
    "radius.nas_options": ("radiusSetNasOptions",),
    "radius.session_disconnect": ("radiusDisconnectSession",),
    "poller.template_save": ("pollerCreateTemplate", "pollerUpdateTemplate"),
    "poller.template_delete": ("pollerDeleteTemplate",),
    "poller.apply": ("pollerApplyTemplate",),
    "poller.unapply": ("pollerUnapplyTemplate",),
    "poller.outage_notice": ("pollerSendOutageNotice",),
    "poller.discover": ("pollerDiscover",),
    "usage.set_source": ("usageSetSource",),
    "network.service_credentials": ("networkSetCredentials",),
    "network.service_reveal": ("networkRevealPassword",),
    "network.service_assign": ("networkAssignAddress",),
    "network.service_release": ("networkReleaseAddresses",),
    # accounts (core)
    "accounts.account_new": ("createAccount",),
    "accounts.account_edit": ("updateAccount",),
    "accounts.account_status": ("setAccountStatus",),
    "accounts.status_list": ("saveAccountStatus",),
    "accounts.contact_new": ("addContact",),
    "accounts.contact_edit": ("updateContact",),
    "accounts.contact_action": ("setPrimaryContact", "setFinancialContact", "removeContact"),
    "accounts.note_new": ("addNote",),
    "accounts.note_action": ("pinNote", "deleteNote"),
    "accounts.call_new": ("logCall",),
    "accounts.event_new": ("scheduleEvent",),
    "accounts.event_action": ("cancelScheduledEvent", "retryScheduledEvent"),
    "accounts.event_reschedule": ("rescheduleScheduledEvent",),
    "accounts.move_out": ("scheduleMoveOut",),
    "accounts.address_new": ("createAddress",),
    "accounts.address_edit": ("updateAddress",),
    "accounts.address_serviceability": ("updateAddress",),
    "accounts.address_import": ("importAddresses",),
    "accounts.building_new": ("createBuilding",),
    "accounts.building_edit": ("updateBuilding",),
    "accounts.building_units": ("generateUnits",),
    "accounts.building_serviceability": ("setUnitsServiceability",),
    "accounts.unit_access": ("setUnitAccessNotes",),
    "accounts.onboard": ("onboardTenant",),
    "accounts.book_tenant": ("bookNextTenant",),
    # auth (core)
    "auth.user_new": ("createStaffUser",),
    "auth.user_edit": ("updateStaffUser",),
    "auth.user_activate": ("setStaffUserActive",),
    "auth.user_deactivate": ("setStaffUserActive",),
    "auth.user_unlock": ("unlockStaffUser",),
    "auth.user_sign_out": ("signOutStaffUser",),
    "auth.user_reset_totp": ("resetStaffUserTwoFactor",),
    "auth.role_new": ("createStaffRole",),
    "auth.role_edit": ("updateStaffRole",),
    "auth.role_delete": ("deleteStaffRole",),
    "auth.token_revoke": ("revokeApiToken",),
    "auth.my_tokens": ("createMyApiToken",),
    "auth.my_token_revoke": ("revokeMyApiToken",),
    "auth.set_time_zone": ("setMyTimeZone",),
    # billing
    "billing.create_service": ("billingCreateService",),
    "billing.service_new": ("billingCreateService",),
    "billing.service_edit": ("billingUpdateService",),
    "billing.service_retire": ("billingRetireService",),
    "billing.package_new": ("billingCreatePackage",),
    "billing.package_edit": ("billingUpdatePackage",),
    "billing.tax_class_new": ("billingCreateTaxClass",),
    "billing.account_subscribe": ("billingSubscribe",),
    "billing.account_price": ("billingChangeSubscriptionPrice",),
    "billing.account_end": ("billingEndSubscriptionWithReason",),
    "billing.account_schedule": ("billingScheduleSubscriptionChange",),
    "billing.account_charge": ("billingAddCharge",),
    "billing.account_settings": ("billingUpdateAccountSettings",),
    "billing.account_bill_now": ("billingBillAccountNow",),
    "billing.record_payment": ("billingRecordPayment",),
    "billing.payment_reverse": ("billingReversePayment",),
    "billing.invoice_void": ("billingVoidInvoice",),
    "billing.invoice_credit": ("billingCreditNote",),
    "billing.start_run": ("billingStartRun",),
    "billing.retry_run": ("billingRetryRun",),
    # notifications
    "notifications.channel": ("notificationsSaveChannel",),
    "notifications.new_channel": ("notificationsSaveChannel",),
    "notifications.save_template": ("notificationsSaveTemplate",),
    "notifications.retry": ("notificationsRetryMessage",),
    "notifications.cancel": ("notificationsCancelMessage",),
    "notifications.new_notice": ("notificationsDraftNotice",),
    "notifications.send_notice": ("notificationsSendNotice",),
    "notifications.test_channel": ("notificationsTestChannel",),
    "billing.payment_refund": ("billingRefundPayment",),
    "payments_stripe.account_page": ("stripeSaveAccount",),
    # reports
    "reports.new": ("reportsCreateReport",),
    "reports.edit": ("reportsUpdateReport",),
    "reports.schedule": ("reportsScheduleReport",),
    "reports.delete": ("reportsDeleteReport",),
}

#: endpoint -> why it has (and must have) no mutation
EXEMPT: dict[str, str] = {
    "graphql.execute_query": "the GraphQL endpoint itself",
    "auth.login": "signing in is the browser session's own business",
    "auth.login_verify": "second sign-in step of the browser session",
    "auth.logout": "ends the browser session",
    "auth.sign_out_everywhere": "ends the browser sessions of the person at the keyboard",
    "auth.change_password": "needs the current password typed by its owner; an API token "
                            "must not change a password",
    "auth.totp_start": "two-factor enrolment needs the owner, their phone and a session",
    "auth.totp_confirm": "two-factor enrolment needs the owner, their phone and a session",
    "auth.totp_disable": "needs the current password typed by its owner",
    "notifications_public.unsubscribe_view": "the recipient's public unsubscribe page (signed "
                                             "link), not a staff action",
    "billing.gateway_webhook": "a payment processor's signed event (parse_webhook), not a "
                               "staff action",
}

#: reviewed gaps, owned by another area: each is a missing mutation to add (then move the
#: row to MAPPED). Keep this table shrinking; never add a route of your own here.
KNOWN_GAPS: dict[str, str] = {
}


# portal (issue 19): the staff pages map to mutations; the customer's own pages act on the
# signed-in customer's account only, through a portal session (never staff GraphQL)
MAPPED.update({
    "portal_staff.branding_page": ("portalUpdateBranding",),
    "portal_staff.contact_link": ("portalSendPasswordLink",),
})
EXEMPT.update({
    "portal.login": "a customer signing in to the portal (its own session)",
    "portal.logout": "ends the customer's own portal session",
    "portal.forgot": "a customer asking for a set-password link",
    "portal.set_password": "a customer using their e-mailed set-password link",
    "portal.autopay": "the customer's own auto-pay in their portal session (staff: "
                      "billingUpdateAccountSettings)",
    "portal.pay": "the customer paying with their own card in their portal session",
    "portal.card": "the customer saving their own card in their portal session",
})


@pytest.fixture
def app(make_app):
    application = make_app()
    with application.app_context():
        yield application


def _state_changing(app) -> dict[str, object]:
    out = {}
    for rule in app.url_map.iter_rules():
        if (rule.methods or set()) - {"GET", "HEAD", "OPTIONS"}:
            out[rule.endpoint] = app.view_functions[rule.endpoint]
    return out


def test_every_state_changing_route_has_a_mutation(app):
    schema = app.extensions["backhaul.graphql"].schema
    mutations = schema.mutation_type.fields
    problems = []
    routes = _state_changing(app)
    for endpoint, view in sorted(routes.items()):
        if endpoint in EXEMPT or endpoint in KNOWN_GAPS:
            continue
        names = MAPPED.get(endpoint)
        if names is None:
            problems.append(f"{endpoint}: a state-changing route with no mutation in the table "
                            "(add its GraphQL mutation and a row to MAPPED)")
            continue
        declared = view_requirements(view)
        for name in names:
            field = mutations.get(name)
            if field is None:
                problems.append(f"{endpoint}: mutation {name} is not in the schema")
                continue
            perms, public = field_rule(schema, field)
            if declared["permission"] is None:
                if not public and perms:
                    problems.append(f"{endpoint}: session-only route but {name} needs {perms}")
            elif declared["permission"] not in perms:
                problems.append(f"{endpoint} needs {declared['permission']} but {name} "
                                f"needs {perms or 'nothing'}")
    stale = sorted(set(MAPPED) | set(EXEMPT) | set(KNOWN_GAPS))
    stale = [e for e in stale if e not in routes]
    if stale:
        problems.append(f"rows for routes that no longer exist: {stale}")
    assert not problems, "\n".join(problems)


def test_the_table_can_fail(app):
    """A route missing from the table is reported (the walker really walks)."""
    routes = _state_changing(app)
    assert "billing.account_subscribe" in routes and "accounts.onboard" in routes
    assert set(routes) - set(MAPPED) - set(EXEMPT) - set(KNOWN_GAPS) == set()

"""What each database constraint means, in the words of the people who run the program.

Django reports a violated constraint as `Constraint "offers_offer_expire_after_publish" is violated.`; the admin
shows the sentence here instead, with the constraint's name after it in small type for whoever has to look it up.
A constraint missing from the map still reads as a sentence, never as the bare name alone.
"""

from django.utils.html import format_html

CONSTRAINT_SENTENCES = {
    # members
    "members_member_points_not_negative": "A member's points balance cannot go below zero.",
    "members_pointsentry_points_not_zero": "A points entry must add or remove at least one point.",
    "members_pointsentry_balance_not_negative": "This entry would leave the member with a negative balance.",
    "members_pointsentry_shortfall_not_negative": "The points a reversal could not take back cannot be negative.",
    # offers
    "offers_offer_expire_after_publish": "The offer must expire after it is published.",
    "offers_offer_usage_end_after_start": "The usage period must end after it starts.",
    "offers_earningmechanism_product_has_sku": "A purchase-a-product mechanism needs the product's SKU.",
    "offers_earningmechanism_points_positive": "A points award needs a number of points above zero.",
    "offers_earningmechanism_points_per_unit_positive": "A points-per-unit award needs points per unit above zero.",
    "offers_audience_segment_set": "A segment audience needs its segment.",
    "offers_audience_age_bound_set": "An age audience needs a minimum age, a maximum age or both.",
    "offers_audience_age_range_ordered": "The maximum age cannot be below the minimum age.",
    "offers_offerlimit_one_per_scope_kind": "The offer already has a limit of this kind for this scope.",
    "offers_marketingcontent_one_per_locale": "The offer already has marketing content in this language.",
    "offers_activation_one_per_member": "This member has already activated the offer.",
    "offers_transaction_one_id_per_store": "This store already recorded a transaction with this id.",
    "offers_fulfillment_one_per_transaction": "This transaction already fulfilled the offer.",
    "offers_offerresponse_one_open_per_member": "The member already holds an open response to this offer.",
    "offers_offerresponse_status_known": "That is not a processing status an offer response can have.",
    # rewards
    "rewards_reward_type_valid": "That is not a kind of reward the program offers.",
    "rewards_rewardredemption_award_is_free": "An awarded reward costs the member no points.",
    "rewards_rewardredemption_anonymous_spends_nothing": "A reward given without a member cannot spend points.",
    "rewards_rewardredemption_member_has_assigned_at": "A reward given to a member needs the time it was given.",
    "rewards_certificatecode_status_valid": "That is not a status a certificate code can have.",
    "rewards_certificatecode_used_has_redemption": "A used certificate code needs the redemption that used it.",
    "rewards_certificatecode_reserved_is_anonymous": "A reserved certificate code cannot belong to a member yet.",
    "rewards_certificatecode_assigned_has_member": "A redeemed, awarded or fulfilled code needs its member.",
    "rewards_certificatecode_fulfilled_has_time": "A fulfilled certificate code needs the time it was fulfilled.",
    # coupons
    "coupons_couponseries_prefix_unique": "Another coupon series already uses this code prefix.",
    "coupons_couponseries_unique_length": "Unique codes need a length from 4 to 16 characters.",
    "coupons_couponseries_common_code_set": "A series with one common code needs that code.",
    "coupons_couponseries_bill_range": "The maximum bill cannot be below the minimum bill.",
    "coupons_seriesallowedmember_unique": "This member is already on the series' allowed list.",
    "coupons_coupon_code_unique": "Another coupon already has this code.",
    "coupons_coupon_common_once_per_member": "This member already holds the series' common code.",
    "coupons_coupon_issued_has_member": "An issued coupon needs the member it was issued to.",
    "coupons_bulkissuejob_segment_set": "Issuing to a segment needs the segment.",
    "coupons_exchangerate_pair_unique": "There is already a rate for this pair of currencies.",
    "coupons_exchangerate_rate_positive": "An exchange rate must be above zero.",
    "coupons_reminderdelivery_once": "This reminder was already sent for this coupon.",
    # exports
    "exports_exportdefinition_format_valid": "Exports are written as CSV files.",
    "exports_exportdefinition_dataset_not_empty": "Choose what the export contains.",
    # webhooks
    "webhooks_delivery_once_per_endpoint": "This event was already sent to this endpoint.",
    # the till's checkouts, returns and offline batches
    "till_checkout_transaction_once_per_store": "This store already has a checkout for this transaction.",
    "till_checkouthold_one_object": "A hold holds either one coupon or one offer response.",
    "till_checkouthold_response_once": "Another open checkout already holds this offer response.",
    "till_offlinebatch_one_id_per_store": "This store already sent an offline batch with this id.",
    "till_offlinechunk_one_per_position": "This part of the offline batch has already been judged.",
    "till_return_one_id_per_store": "This store already recorded a return with this id.",
    "till_returnline_one_per_line": "A return names each line of the purchase once.",
    "till_returnline_quantity_positive": "A returned line must return at least one unit.",
}


def constraint_sentence(name: str) -> str:
    return CONSTRAINT_SENTENCES.get(name, "This change breaks one of the program's rules.")


def constraint_message(name: str):
    """The sentence with the constraint's name in small type, as the admin shows it."""
    return format_html('{} <small class="machine-code">{}</small>', constraint_sentence(name), name)

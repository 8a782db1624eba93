"""Every sentence the account pages show, in one place, so they can be translated later."""

from __future__ import annotations

from types import MappingProxyType

# The words a customer agrees to by ticking "text me reminders"; recorded with the consent.
TEXTS_CONSENT = (
    "Text me payment reminders with a link to pay at this number. Message and data rates may apply. "
    "Reply STOP to end, HELP for help."
)

TEXT = MappingProxyType(
    {
        "sign_in_title": "See all your invoices",
        "sign_in_lead": "Enter the email address your invoices are sent to. "
        "We will email you a link to sign in.",
        "email_label": "Email address",
        "email_invalid": "Enter an email address, for example name@example.com.",
        "send_link": "Email me a sign-in link",
        "passkey_sign_in": "Sign in with a passkey",
        "check_title": "Check your email",
        "check_text": "If that address receives invoices here, a sign-in link is on its way. It works once, "
        "for 15 minutes, in this browser.",
        "confirm_title": "Sign in",
        "confirm_text": "Press the button to sign in to your account.",
        "confirm_button": "Sign in",
        "link_invalid_title": "This sign-in link cannot be used",
        "link_invalid_text": "It was used already or it has expired. Ask for a new one.",
        "other_browser_title": "Open the link in the browser you asked from",
        "other_browser_text": "For your safety a sign-in link works only in the browser where it was asked "
        "for. Ask for a new link here instead.",
        "expired_title": "This page has expired",
        "expired_text": "Please go back, reload the page and try again.",
        "choose_title": "Which account?",
        "choose_lead": "Your address receives invoices for several accounts. Choose one.",
        "choose_button": "Open",
        "owed_title": "What you owe now",
        "nothing_owed": "You have nothing to pay. Thank you!",
        "open_title": "Open invoices",
        "col_invoice": "Invoice",
        "col_due": "Due",
        "col_amount": "Amount due",
        "col_status": "Status",
        "pay_selected": "Pay selected invoices",
        "pay_hint": "Tick the invoices to pay; they are paid together in one payment.",
        "history_title": "Payments",
        "no_history": "No payments yet.",
        "col_date": "Date",
        "col_method": "Method",
        "receipt": "Receipt",
        "receipt_title": "Receipt",
        "contact_title": "Your contact details",
        "contact_lead": "Changes are sent to {company} and used for your next invoices.",
        "phone_label": "Phone",
        "texts_label": TEXTS_CONSENT,
        "save": "Save",
        "contact_invalid_title": "Those details look wrong",
        "contact_invalid_text": "Enter an email address like name@example.com and a phone number of digits.",
        "notice_contact": "Thank you. Your new details are on their way to us.",
        "security_title": "Signing in",
        "signed_in_as": "Signed in as {email}.",
        "via_invoice": "You opened this account from an invoice link.",
        "add_passkey": "Add a passkey",
        "passkeys_title": "Passkeys",
        "back_to_account": "Back to your account",
        "passkey_lead": "A passkey lets you sign in next time with your fingerprint, face or device PIN.",
        "passkeys_count": "Passkeys: {count}",
        "remove": "Remove",
        "sign_out": "Sign out",
        "sign_out_everywhere": "Sign out everywhere",
        "signed_out_title": "You are signed out",
        "signed_out_text": "Thank you. You can close this page.",
        "switch_account": "Switch account",
        "pay_refused_title": "We could not start that payment",
        "pay_unavailable_title": "Payments are briefly unavailable",
        "pay_unavailable_text": "Nothing was charged. Please try again in a few minutes.",
        "not_found_title": "Not found",
        "not_found_text": "There is nothing here for this account.",
        "help": "Questions about your account",
        "state_open": "Open",
        "state_partial": "Partly paid",
        "state_overdue": "Overdue",
        "state_processing": "Processing",
        "state_paid": "Paid",
        "state_review": "In review",
        "state_succeeded": "Paid",
        "state_returned": "Returned",
        "method_card": "Card",
        "method_us_bank_account": "Bank account",
        "methods_title": "Payment methods",
        "no_methods": "No card or bank account on file.",
        "method_ending": "{brand} ending {last4}",
        "method_expires": "Expires {month:02d}/{year}",
        "method_default": "Default",
        "method_changing": "Being updated",
        "make_default": "Make default",
        "add_method": "Add a card or bank account",
        "method_consent": "I authorise {company} to keep this payment method on file with Stripe and to "
        "charge it for invoices I owe {company}. I can remove it at any time.",
        "keep_method_label": "Keep this card for next time",
        "keep_method": "Keep this card for next time. {consent}",
        "methods_help": "Card details are kept by Stripe, never by us.",
        "notice_method": "Thank you. Your payment method will appear here in a moment.",
        "notice_default": "Your default payment method is changed.",
        "notice_removed": "That payment method is removed.",
        "method_refused_title": "We could not change that payment method",
        "card_page_title": "Put a payment method on file",
        "card_thanks_title": "Thank you",
        "card_thanks_text": "Your payment method is on file with {company}. You can close this page.",
        "card_saved_title": "Already done",
        "card_saved_text": "A payment method is on file with {company} from this link.",
        "card_expired_title": "This link has expired",
        "card_expired_text": "Please ask {company} for a new one.",
        "card_open_title": "Put a card or bank account on file",
        "card_open_text": "Hello {customer}, {company} asks you to keep a payment method on file so they "
        "can charge it for work they do for you.",
        "card_note": "Their note:",
        "card_agree": "Agree and add a payment method",
        "card_page_expired": "This page has expired. Please try again.",
        "card_link_invalid": "This link is no longer valid. Please ask for a new one.",
        "card_link_used": "A payment method is already on file from this link.",
        "card_form_unavailable": "We could not open the card form just now. Please try again in a minute.",
        "help_sign_in_title": "How does signing in work?",
        "help_sign_in": "You enter the email address your invoices are sent to and we email you a link. It "
        "works once, for 15 minutes, in the browser where you asked for it. We answer the same whether or "
        "not we know the address. Any invoice link also opens the account of that one customer.",
        "help_stored_title": "What is stored about me?",
        "help_stored": "Your invoices and payments as the business keeps them in QuickBooks, your billing "
        "email and phone, and the sign-in sessions you opened (when, and when last used). Sign-in links "
        "and session cookies are stored only as one-way fingerprints, so nobody can sign in with what is "
        "stored, and they are deleted a day after they end. Card and bank details stay with Stripe and "
        "never reach this site.",
        "help_passkey_title": "What is a passkey, and how do I remove one?",
        "help_passkey": "A passkey lets your phone or computer sign you in with your fingerprint, face or "
        'PIN. We keep only its public key. To remove one, sign in and press "Remove" next to it under '
        '"Signing in"; also delete it from your device\'s password manager.',
        "help_methods_title": "How do I keep a card on file, or remove one?",
        "help_methods": 'Under "Payment methods" press "Add a card or bank account"; Stripe\'s page takes '
        "the details and only Stripe keeps them. We keep the brand, last 4 digits and expiry (or bank "
        "name), and what you agreed to: the words shown, when, your IP address and browser. When you pay, "
        '"Keep this card for next time" does the same; it is never ticked for you. "Remove" takes a '
        "method off your account at Stripe; if Stripe cannot be reached just then, the page says the "
        "change is on its way and it is made as soon as Stripe answers.",
        "help_pdf_title": "Where are my invoices as PDFs?",
        "help_pdf": 'Next to each open invoice, and in each payment under "Payments", a PDF link downloads '
        "the invoice as the business's QuickBooks prints it.",
        "help_someone_title": "I think someone else signed in",
        "help_someone": 'Sign in and press "Sign out everywhere": every session of your address ends at '
        "once. Then tell the business.",
        "card_too_many": "That was tried too many times. Please wait 15 minutes and try again.",
        "method_failed_text": "Our payment processor refused the change, so nothing was changed. "
        "Please try again later or contact us.",
        "notice_updating": "Your payment methods are being updated. The change shows here once our "
        "payment processor has made it.",
        "invoice_pdf": "PDF",
        "invoice_pdf_label": "Download invoice {number} (PDF)",
        "recurring_title": "Recurring services",
        "recurring_next": "Next invoices",
        "recurring_ends": "Ends after",
        "recurring_once_daily": "Daily",
        "recurring_once_weekly": "Weekly",
        "recurring_once_monthly": "Monthly",
        "recurring_once_yearly": "Yearly",
        "recurring_every_daily": "Every {every} days",
        "recurring_every_weekly": "Every {every} weeks",
        "recurring_every_monthly": "Every {every} months",
        "recurring_every_yearly": "Every {every} years",
        "recurring_trial": "Trial",
        "recurring_state_active": "Active",
        "recurring_state_paused": "Paused",
        "recurring_state_cancelled": "Cancelled",
        "recurring_state_pausing": "Pausing",
        "recurring_state_cancelling": "Cancelling",
        "recurring_state_ended": "Ended",
        "recurring_pause": "Pause",
        "recurring_cancel": "Cancel",
        "recurring_confirm_pause_title": "Pause this service?",
        "recurring_confirm_cancel_title": "Cancel this service?",
        "recurring_confirm_pause": "No more invoices are made for it until we resume it. You can ask us "
        "to resume it at any time.",
        "recurring_confirm_cancel": "No more invoices are made for it. Invoices already made stay as "
        "they are.",
        "recurring_do_pause": "Yes, pause it",
        "recurring_do_cancel": "Yes, cancel it",
        "recurring_keep": "Keep it",
        "notice_recurring_pause": "The service is paused. We have emailed you a confirmation.",
        "notice_recurring_cancel": "The service is cancelled. We have emailed you a confirmation.",
        "trial_lead": "{customer}: your trial of {service} ends soon. The first invoice, {amount}, is made "
        "on {date}.",
        "trial_cancel_title": "Cancel your trial?",
        "trial_cancel_text": "No invoice is made and nothing is charged.",
        "trial_do_cancel": "Cancel the trial",
        "trial_continue_title": "Continue after your trial?",
        "trial_continue_text": "The service continues and invoices are made on its schedule.",
        "trial_do_continue": "Continue",
        "trial_cancelled_title": "Your trial is cancelled",
        "trial_cancelled_text": "{service} is cancelled: {company} makes no invoice for it. We have emailed "
        "you a confirmation.",
        "trial_continued_title": "Thank you",
        "trial_continued_text": "{service} continues: the first invoice, {amount}, is made on {date}.",
        "trial_expired_title": "This link has expired",
        "trial_expired_text": "The trial's first invoice date is past. Please contact {company}.",
    }
)

import json

import pytest

from exports.examples import example_from_item
from exports.redaction import Redactor, luhn_valid
from reviews.models import Review

pytestmark = pytest.mark.django_db

FOUND = [
    ("email", "Write to jane.doe+billing@mail.example.co.uk today.", "Write to [EMAIL] today."),
    ("card with spaces", "Card 4111 1111 1111 1111 was charged.", "Card [CARD] was charged."),
    ("card with dashes", "Use 5500-0000-0000-0004 instead.", "Use [CARD] instead."),
    ("card run together", "Amex 378282246310005.", "Amex [CARD]."),
    ("ssn", "SSN 123-45-6789 on file.", "SSN [SSN] on file."),
    ("phone with area code", "Call (555) 123-4567.", "Call [PHONE]."),
    ("phone with dashes", "Call 555-123-4567 now.", "Call [PHONE] now."),
    ("phone with country code", "Call +1 555.123.4567.", "Call [PHONE]."),
    ("international phone", "Ring +44 20 7946 0958 please.", "Ring [PHONE] please."),
]

KEPT = [
    ("date and time", "The current time is 2024-05-15 15:00:00 EST."),
    ("flight and price", "Flight HAT136 costs $1,234.56 on 2024-05-20."),
    ("card failing luhn", "Reference 4111 1111 1111 1112."),
    ("ssn in unused area", "Code 000-12-3456 and 666-12-3456."),
    ("short number", "Order 55512345 shipped."),
    ("ip address", "Server 192.168.100.200 is up."),
    ("user id", "My user ID is mia_li_3668."),
]


@pytest.mark.parametrize(("text", "redacted"), [case[1:] for case in FOUND], ids=[case[0] for case in FOUND])
def test_personal_data_is_replaced(text, redacted):
    assert Redactor().text(text) == redacted


@pytest.mark.parametrize("text", [case[1] for case in KEPT], ids=[case[0] for case in KEPT])
def test_ordinary_numbers_are_kept(text):
    redactor = Redactor()

    assert redactor.text(text) == text
    assert sum(redactor.counts.values()) == 0


def test_counts_by_kind():
    redactor = Redactor()

    redactor.text("a@b.io, c@d.io, 4111 1111 1111 1111, 123-45-6789, 555-123-4567")

    assert redactor.counts == {"email": 2, "card": 1, "ssn": 1, "phone": 1}


def test_luhn_check():
    assert luhn_valid("4111111111111111")
    assert not luhn_valid("4111111111111112")


def test_json_values_are_redacted_in_place():
    redactor = Redactor()
    arguments = json.dumps({"email": "jane@example.com", "card": 4111111111111111, "seats": 2})

    redacted = json.loads(redactor.json_text(arguments))

    assert redacted == {"email": "[EMAIL]", "card": "[CARD]", "seats": 2}


def test_json_without_personal_data_is_unchanged():
    text = '{"status":"shipped",  "id": 42}'

    assert Redactor().json_text(text) == text


def test_example_is_redacted_everywhere(make_reviewed):
    conversation = [{"role": "user", "content": "I am jane@example.com, call 555-123-4567."}]
    response = {"role": "assistant", "content": "", "tool_calls": [{"id": "c1", "type": "function", "function": {
        "name": "lookup", "arguments": "{\"email\": \"jane@example.com\"}"}}]}
    item = make_reviewed(Review.Verdict.NEEDS_FIX, conversation=conversation, response=response,
                         corrected_response="Noted, jane@example.com.", external_id="jane@example.com")
    redactor = Redactor()

    example = redactor.example(example_from_item(item))

    assert example.context[0]["content"] == "I am [EMAIL], call [PHONE]."
    assert json.loads(example.original["tool_calls"][0]["function"]["arguments"]) == {"email": "[EMAIL]"}
    assert example.gold["content"] == "Noted, [EMAIL]."
    assert example.provenance["external_id"] == "[EMAIL]"
    assert redactor.counts == {"email": 4, "card": 0, "ssn": 0, "phone": 1}

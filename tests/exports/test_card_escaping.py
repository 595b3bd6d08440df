"""The bundle's dataset card never carries reviewed text, so a payload in it cannot reach a card viewer."""

import pytest

from tests.exports.conftest import bundle_members

SCRIPT = "<script>alert(1)</script>"
PAYLOAD = f'{SCRIPT} "><img src=x onerror=alert(1)> [click](javascript:alert(1))'

pytestmark = pytest.mark.django_db


def test_card_leaves_out_payloads_of_reviewed_items(build, make_reviewed, queue):
    queue.rubric.guidelines = PAYLOAD
    queue.rubric.save()
    user_turn = {"role": "user", "content": PAYLOAD}
    make_reviewed("approved", conversation=[user_turn], response={"role": "assistant", "content": PAYLOAD},
                  metadata={"note": PAYLOAD})
    make_reviewed("needs_fix", conversation=[user_turn], response={"role": "assistant", "content": "Original."},
                  corrected_response=f"Fixed. {PAYLOAD}")

    members = bundle_members(build(kind="both"))
    card = members["README.md"].decode()

    assert PAYLOAD in members["sft.jsonl"].decode().replace("\\u003c", "<").replace('\\"', '"')
    assert "alert(1)" not in card
    assert "<script" not in card.lower()
    assert "javascript:" not in card.lower()
    assert "onerror" not in card.lower()

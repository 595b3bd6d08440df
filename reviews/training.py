"""How a final review maps to training data, for exporters of turn-selected and pairwise items.

Turn selection: the prompt is every message of the item's transcript
(conversation, then response) before the turn under review, and the reply
is that turn. Later messages are dropped. Without ``turn_index`` the prompt
is the conversation and the reply is the response.

Pairwise (DPO): chosen is the preferred candidate, or its rewrite when the
verdict is needs_fix; rejected is the other candidate. A rejected verdict
on a pairwise item means both candidates are unusable and yields no pair.
For a single reply, needs_fix gives chosen = rewrite, rejected = original.
"""

from dataclasses import dataclass

from .models import Review

ROLE_ASSISTANT = "assistant"


@dataclass(frozen=True)
class PreferencePair:
    prompt: list[dict]
    chosen: dict
    rejected: dict


def review_prompt(review: Review) -> list[dict]:
    """Return the messages before the reply ``review`` judged."""
    if review.turn_index is None:
        return list(review.item.conversation)
    return review.item.transcript[: review.turn_index]


def review_reply(review: Review) -> dict:
    """Return the training target of ``review``: the rewrite for needs_fix, else the judged reply."""
    original = review.item.reply_under_review(turn_index=review.turn_index, preferred=review.preferred)
    if review.verdict == Review.Verdict.NEEDS_FIX:
        return {"role": ROLE_ASSISTANT, "content": review.corrected_response}
    return original


def review_preference_pair(review: Review) -> PreferencePair | None:
    """Return the DPO pair of ``review``, or None when it yields none.

    A single-reply item yields a pair only for needs_fix. A pairwise item
    yields one for approved and needs_fix, never for rejected.
    """
    item = review.item
    prompt = review_prompt(review)
    if item.is_pairwise:
        if review.verdict == Review.Verdict.REJECTED:
            return None
        other = item.reference_response if review.preferred == Review.Preference.A else item.response
        return PreferencePair(prompt=prompt, chosen=review_reply(review), rejected=other)
    if review.verdict != Review.Verdict.NEEDS_FIX:
        return None
    original = item.reply_under_review(turn_index=review.turn_index)
    return PreferencePair(prompt=prompt, chosen=review_reply(review), rejected=original)

"""Page context for the reply a review judges: the chosen turn of a transcript, or a pairwise candidate."""

from typing import Any

from ..models import Review, ReviewItem
from .conversation import chat_turn, chat_turns
from .forms import CANDIDATE_SHORTCUTS, ReviewForm, assistant_turns


def _picked(form: ReviewForm, name: str) -> str:
    """Return the posted or initial value of the form's ``name`` field as text, or "" when none is set."""
    if name not in form.fields:
        return ""
    value = form[name].value()
    return "" if value is None else str(value)


def reply_context(item: ReviewItem, form: ReviewForm) -> dict[str, Any]:
    """Return the template context that shows ``item`` with the turn or candidate ``form`` has picked.

    Every item gets ``turns``, ``reply`` and ``reference``. A turn-choice item adds
    ``transcript`` (each message with its index and whether it may be picked), a
    pairwise item adds ``candidates``, and both add ``reply_choices`` for the rewrite diff.
    """
    context: dict[str, Any] = {
        "turns": chat_turns(item.conversation),
        "reply": chat_turn(item.response),
        "reference": chat_turn(item.reference_response) if item.reference_response else None,
        "reply_choices": form.reply_choices(),
    }
    if item.turn_selectable:
        chosen = _picked(form, "turn_index")
        selectable = set(assistant_turns(item))
        context["transcript"] = [
            {"index": index, "turn": turn, "selectable": index in selectable, "chosen": str(index) == chosen}
            for index, turn in enumerate(chat_turns(item.transcript))
        ]
    if item.is_pairwise:
        chosen = _picked(form, "preferred")
        candidates = ((Review.Preference.A, item.response), (Review.Preference.B, item.reference_response))
        context["candidates"] = [
            {
                "value": value, "label": value.upper(), "heading": f"candidate {value.upper()}",
                "shortcut": CANDIDATE_SHORTCUTS[value], "turn": chat_turn(message), "chosen": value == chosen,
            }
            for value, message in candidates
        ]
    return context

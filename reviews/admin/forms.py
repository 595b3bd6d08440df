"""The review form, built from the criteria of the rubric version that a queue uses."""

from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from rubrics.models import Criterion, Rubric

from ..models import Review, ReviewItem

SCORE_PREFIX = "score_"
PASS_FAIL_CHOICES = [("", "—"), ("pass", "Pass"), ("fail", "Fail")]
# The key that picks each verdict on the review page (see reviews/static/reviews/workspace.js).
VERDICT_SHORTCUTS = {Review.Verdict.APPROVED: "a", Review.Verdict.NEEDS_FIX: "f", Review.Verdict.REJECTED: "r"}
# The keys that pick candidate A or B of a pairwise item, because the a key already picks approved.
CANDIDATE_SHORTCUTS = {Review.Preference.A: "1", Review.Preference.B: "2"}


def _normalise_newlines(text: str) -> str:
    # Browsers submit textarea line breaks as CRLF; stored rewrites and reasons use LF.
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _pass_fail(value: str) -> bool:
    return value == "pass"


def criterion_field(criterion: Criterion) -> forms.Field:
    """Return the form field for one criterion: a pass/fail select, a number in range, or a choice."""
    options = {
        "label": criterion.label,
        "help_text": criterion.guidance,
        "required": criterion.required,
        "error_messages": {"required": f"Criterion “{criterion.label}” is required; give it a score."},
    }
    if criterion.kind == Criterion.Kind.PASS_FAIL:
        return forms.TypedChoiceField(choices=PASS_FAIL_CHOICES, coerce=_pass_fail, empty_value=None, **options)
    if criterion.kind == Criterion.Kind.SCALE:
        return forms.IntegerField(min_value=criterion.min_value, max_value=criterion.max_value, **options)
    choices = [("", "—")] + [(option, option) for option in criterion.options]
    return forms.ChoiceField(choices=choices, **options)


def _reply_text(message: Any) -> str:
    return (message.get("content") or "") if isinstance(message, dict) else ""


def assistant_turns(item: ReviewItem) -> list[int]:
    """Return the positions of the assistant messages in the item's transcript."""
    return [index for index, message in enumerate(item.transcript) if message.get("role") == "assistant"]


def turn_field(item: ReviewItem) -> forms.TypedChoiceField:
    """Return the choice of the assistant turn under review, the last one (the response) first selected."""
    turns = assistant_turns(item)
    return forms.TypedChoiceField(
        choices=[(index, f"Turn {index}") for index in turns], coerce=int, initial=turns[-1],
        widget=forms.RadioSelect,
        error_messages={
            "required": "Choose which assistant turn you review.",
            "invalid_choice": f"Turn %(value)s is not an assistant turn of item {item.pk}; choose one of {turns}.",
        },
    )


class ReviewForm(forms.Form):
    """A verdict on one reply, with a score per criterion, a rewrite and a reason.

    The checks mirror ``Review.clean`` so that a mistake re-renders the form
    with its message instead of reaching the service.
    """

    verdict = forms.ChoiceField(
        choices=Review.Verdict.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Choose a verdict: approved, needs fix or rejected."},
    )
    corrected_response = forms.CharField(
        label="Corrected response",
        required=False,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 10}),
        help_text="The reply as it should read. Required for a needs-fix verdict, ignored otherwise.",
    )
    reason = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="What is wrong with the reply. Required for a rejection, ignored otherwise.",
    )
    time_spent_seconds = forms.IntegerField(min_value=0, required=False, initial=0, widget=forms.HiddenInput)

    def __init__(self, *args: Any, rubric: Rubric, original_response: str, item: ReviewItem | None = None,
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.item = item
        self.original_response = original_response
        self.criteria = list(rubric.criteria.all())
        self.fields["corrected_response"].initial = original_response
        for criterion in self.criteria:
            self.fields[SCORE_PREFIX + criterion.key] = criterion_field(criterion)
        self.order_fields([SCORE_PREFIX + criterion.key for criterion in self.criteria])
        if item is not None and item.turn_selectable:
            self.fields["turn_index"] = turn_field(item)
        if item is not None and item.is_pairwise:
            self.fields["preferred"] = forms.ChoiceField(
                choices=Review.Preference.choices, widget=forms.RadioSelect,
                error_messages={"required": "Pick the better candidate, A or B, before giving a verdict."},
            )

    def reply_choices(self) -> dict[str, str]:
        """Return the text of each reply the reviewer may pick, by the value of its turn or candidate input."""
        item = self.item
        if item is not None and item.is_pairwise:
            return {"a": _reply_text(item.response), "b": _reply_text(item.reference_response)}
        if item is not None and item.turn_selectable:
            return {str(index): _reply_text(item.transcript[index]) for index in assistant_turns(item)}
        return {}

    @property
    def score_fields(self) -> list[forms.BoundField]:
        return [self[SCORE_PREFIX + criterion.key] for criterion in self.criteria]

    @property
    def verdict_buttons(self) -> list[dict[str, Any]]:
        """Return each verdict's radio input with its keyboard shortcut."""
        return [
            {"radio": radio, "shortcut": VERDICT_SHORTCUTS[radio.data["value"]]} for radio in self["verdict"]
        ]

    def clean_corrected_response(self) -> str:
        return _normalise_newlines(self.cleaned_data["corrected_response"])

    def clean_reason(self) -> str:
        return _normalise_newlines(self.cleaned_data["reason"])

    def judged_text(self) -> str:
        """Return the text of the reply the verdict applies to: the picked turn or candidate, else the response."""
        if self.item is None:
            return self.original_response
        reply = self.item.reply_under_review(
            turn_index=self.cleaned_data.get("turn_index"), preferred=self.cleaned_data.get("preferred") or ""
        )
        return _reply_text(reply)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        verdict = cleaned.get("verdict")
        rewrite = cleaned.get("corrected_response", "").strip()
        if verdict == Review.Verdict.NEEDS_FIX and not rewrite:
            self.add_error(
                "corrected_response", "A needs-fix verdict requires the corrected response; write the reply as it should read."
            )
        elif verdict == Review.Verdict.NEEDS_FIX and rewrite == self.judged_text().strip():
            self.add_error(
                "corrected_response", "The corrected response is the same as the original reply; edit it, or choose approved."
            )
        if verdict == Review.Verdict.REJECTED and not cleaned.get("reason", "").strip():
            self.add_error("reason", "A rejected verdict requires a reason; say what is wrong with the reply.")
        return cleaned

    def submission(self) -> dict[str, Any]:
        """Return the cleaned data as keyword arguments for ``review_submit`` and ``review_adjudicate``."""
        scores = {}
        for criterion in self.criteria:
            value = self.cleaned_data.get(SCORE_PREFIX + criterion.key)
            if value is not None and value != "":
                scores[criterion.key] = value
        submission = {
            "verdict": self.cleaned_data["verdict"],
            "scores": scores,
            "corrected_response": self.cleaned_data["corrected_response"],
            "reason": self.cleaned_data["reason"],
            "time_spent_seconds": self.cleaned_data.get("time_spent_seconds") or 0,
        }
        if "turn_index" in self.fields:
            submission["turn_index"] = self.cleaned_data["turn_index"]
        if "preferred" in self.fields:
            submission["preferred"] = self.cleaned_data["preferred"]
        return submission

    def add_service_error(self, error: ValidationError) -> None:
        """Show a ValidationError from a service next to its field, or above the form when no field matches."""
        if not hasattr(error, "error_dict"):
            self.add_error(None, error)
            return
        for field, field_errors in error.error_dict.items():
            self.add_error(field if field in self.fields else None, field_errors)

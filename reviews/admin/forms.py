"""The review form, built from the criteria of the rubric version that a queue uses."""

from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from rubrics.models import Criterion, Rubric

from ..models import Review

SCORE_PREFIX = "score_"
PASS_FAIL_CHOICES = [("", "—"), ("pass", "Pass"), ("fail", "Fail")]
# The key that picks each verdict on the review page (see reviews/static/reviews/workspace.js).
VERDICT_SHORTCUTS = {Review.Verdict.APPROVED: "a", Review.Verdict.NEEDS_FIX: "f", Review.Verdict.REJECTED: "r"}


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

    def __init__(self, *args: Any, rubric: Rubric, original_response: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.original_response = original_response
        self.criteria = list(rubric.criteria.all())
        self.fields["corrected_response"].initial = original_response
        for criterion in self.criteria:
            self.fields[SCORE_PREFIX + criterion.key] = criterion_field(criterion)
        self.order_fields([SCORE_PREFIX + criterion.key for criterion in self.criteria])

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

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        verdict = cleaned.get("verdict")
        rewrite = cleaned.get("corrected_response", "").strip()
        if verdict == Review.Verdict.NEEDS_FIX and not rewrite:
            self.add_error(
                "corrected_response", "A needs-fix verdict requires the corrected response; write the reply as it should read."
            )
        elif verdict == Review.Verdict.NEEDS_FIX and rewrite == self.original_response.strip():
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
        return {
            "verdict": self.cleaned_data["verdict"],
            "scores": scores,
            "corrected_response": self.cleaned_data["corrected_response"],
            "reason": self.cleaned_data["reason"],
            "time_spent_seconds": self.cleaned_data.get("time_spent_seconds") or 0,
        }

    def add_service_error(self, error: ValidationError) -> None:
        """Show a ValidationError from a service next to its field, or above the form when no field matches."""
        if not hasattr(error, "error_dict"):
            self.add_error(None, error)
            return
        for field, field_errors in error.error_dict.items():
            self.add_error(field if field in self.fields else None, field_errors)

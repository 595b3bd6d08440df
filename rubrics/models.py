from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models


class Rubric(models.Model):
    """One version of a rubric. Versions of the same rubric share a slug.

    A version that any review references is frozen: editing it creates the
    next version instead.
    """

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=100)
    version = models.PositiveIntegerField(default=1)
    guidelines = models.TextField(blank=True, help_text="Markdown shown to reviewers.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["slug", "-version"]
        constraints = [models.UniqueConstraint(fields=["slug", "version"], name="rubric_slug_version_unique")]

    def __str__(self) -> str:
        return f"{self.name} (v{self.version})"

    @property
    def label(self) -> str:
        return f"{self.slug}@{self.version}"


class Criterion(models.Model):
    class Kind(models.TextChoices):
        PASS_FAIL = "pass_fail", "Pass / fail"
        SCALE = "scale", "Integer scale"
        CHOICE = "choice", "Single choice"

    rubric = models.ForeignKey(Rubric, on_delete=models.CASCADE, related_name="criteria")
    key = models.SlugField(max_length=64)
    label = models.CharField(max_length=200)
    guidance = models.TextField(blank=True)
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.PASS_FAIL)
    min_value = models.IntegerField(null=True, blank=True)
    max_value = models.IntegerField(null=True, blank=True)
    options = models.JSONField(default=list, blank=True)
    required = models.BooleanField(default=True)
    weight = models.FloatField(default=1.0)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["rubric", "position", "id"]
        verbose_name_plural = "criteria"
        constraints = [models.UniqueConstraint(fields=["rubric", "key"], name="criterion_key_unique")]

    def __str__(self) -> str:
        return self.label

    def clean(self) -> None:
        if self.kind == self.Kind.SCALE:
            if self.min_value is None or self.max_value is None:
                raise ValidationError(f"Criterion {self.key!r}: a scale needs both min and max.")
            if self.min_value >= self.max_value:
                raise ValidationError(f"Criterion {self.key!r}: min must be below max.")
        if self.kind == self.Kind.CHOICE:
            if not isinstance(self.options, list) or len(self.options) < 2 or not all(
                isinstance(option, str) and option for option in self.options
            ):
                raise ValidationError(f"Criterion {self.key!r}: a choice needs at least two non-empty text options.")

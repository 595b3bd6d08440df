"""Rubric payloads of the API: fields in, a service call, the result out."""

from rest_framework import serializers

from bookbag.api.serializers import RejectUnknownFieldsMixin

from .models import Criterion, Rubric
from .services import rubric_create, rubric_update


class CriterionSerializer(RejectUnknownFieldsMixin, serializers.ModelSerializer):
    min = serializers.IntegerField(source="min_value", required=False, allow_null=True)
    max = serializers.IntegerField(source="max_value", required=False, allow_null=True)
    options = serializers.ListField(child=serializers.CharField(max_length=200), required=False)

    class Meta:
        model = Criterion
        fields = ["key", "label", "guidance", "kind", "min", "max", "options", "required", "weight"]
        validators = []

    def validate(self, attrs):
        # A PATCH makes nested fields optional too, but a criterion still needs its key and label.
        missing = [name for name in ("key", "label") if name not in attrs]
        if missing:
            raise serializers.ValidationError({missing[0]: ["This field is required."]}, code="required")
        return attrs


class RubricSerializer(RejectUnknownFieldsMixin, serializers.ModelSerializer):
    criteria = CriterionSerializer(many=True, required=False)

    class Meta:
        model = Rubric
        fields = ["id", "name", "slug", "version", "guidelines", "criteria", "created_at"]
        read_only_fields = ["version", "created_at"]
        # rubric_create reports a taken slug with the way forward.
        validators = []

    def create(self, validated_data):
        return rubric_create(actor=self.context["request"].user, **validated_data)

    def update(self, instance, validated_data):
        return rubric_update(actor=self.context["request"].user, rubric=instance, **validated_data)

from rest_framework import serializers

from ..models import Experiment, Variant


class VariantSerializer(serializers.ModelSerializer):
    class Meta:
        model = Variant
        fields = ["key", "strategy", "parameters", "weight", "is_control"]


class ExperimentSerializer(serializers.ModelSerializer):
    variants = VariantSerializer(many=True, read_only=True)

    class Meta:
        model = Experiment
        fields = ["id", "name", "placement", "status", "primary_metric", "guardrails", "started_at", "stopped_at",
                  "variants"]  # fmt: skip


class ComparisonSerializer(serializers.Serializer):
    control = serializers.FloatField()
    variant = serializers.FloatField()
    difference = serializers.FloatField(help_text="The variant's value less the control's.")
    low = serializers.FloatField(allow_null=True, help_text="The difference's 95% interval, low end.")
    high = serializers.FloatField(allow_null=True, help_text="The difference's 95% interval, high end.")
    lift = serializers.FloatField(allow_null=True, help_text="The difference over the control's value.")
    p_value = serializers.FloatField(help_text="Two-proportion score test for rates, Welch's t-test for revenue.")
    significant = serializers.BooleanField(help_text="p < 0.05")


class VariantResultSerializer(serializers.Serializer):
    key = serializers.CharField()
    strategy = serializers.CharField()
    parameters = serializers.DictField()
    is_control = serializers.BooleanField()
    share = serializers.FloatField(help_text="Of the traffic, as set.")
    exposed = serializers.IntegerField(help_text="Visitors shown the placement with this variant.")
    simulated = serializers.IntegerField(help_text="Of them, sent by the shopper simulator.")
    clicks = serializers.IntegerField()
    metrics = serializers.DictField(child=serializers.FloatField(), help_text="Per metric, per exposed visitor.")
    comparisons = serializers.DictField(child=ComparisonSerializer(), help_text="Per metric; none for the control.")
    visitors_needed = serializers.IntegerField(
        allow_null=True, help_text="Per variant, to detect the minimum lift on the primary metric (80% power)."
    )


class SampleRatioSerializer(serializers.Serializer):
    p_value = serializers.FloatField()
    mismatch = serializers.BooleanField(help_text="p < 0.001: the split does not follow the traffic shares.")


class TimelinePointSerializer(serializers.Serializer):
    at = serializers.DateTimeField()
    lifts = serializers.DictField(child=serializers.FloatField(allow_null=True))


class ResultsSerializer(serializers.Serializer):
    experiment = ExperimentSerializer()
    exposed = serializers.IntegerField()
    variants = VariantResultSerializer(many=True)
    sample_ratio = SampleRatioSerializer()
    guardrail_warnings = serializers.ListField(child=serializers.CharField())
    timeline = TimelinePointSerializer(many=True, help_text="The primary metric's cumulative lift over time.")
    attribution_hours = serializers.FloatField()
    minimum_lift = serializers.FloatField()

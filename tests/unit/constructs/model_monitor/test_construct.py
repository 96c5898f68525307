"""ModelMonitorSchedule: the drift-job backend with defaults, Model Monitor with all four
monitoring types in a VPC, an endpoint deployed elsewhere, alarms, on_drift, least privilege
and all five nag packs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk.assertions import Match, Template

from mlops_cdk.constructs import (
    Baseline,
    ContainerImage,
    GroundTruth,
    ModelData,
    ModelMonitorSchedule,
    MonitorBackend,
    MonitoredEndpoint,
    MonitoringType,
    QualityAlarm,
    ReportLocation,
)
from mlops_cdk.constructs.model_monitor.construct import DATA_METRICS_NAMESPACE
from mlops_cdk.runtime.drift.metrics import DATA_METRICS_NAMESPACE as JOB_NAMESPACE
from mlops_cdk.stacks.app import NAG_PACKS
from tests.helpers.apps import TEST_ENV, unit_app
from tests.helpers.compliance import cfn_lint, findings
from tests.helpers.scenarios import captured_endpoint as endpoint
from tests.helpers.templates import as_list, ref, resolve_join
from tests.helpers.templates import managed_policy_statements as policy_statements

IMAGE = ContainerImage.from_uri("123456789012.dkr.ecr.eu-west-1.amazonaws.com/churn:1")
DEMO_BASELINE = "mlops_cdk/runtime/demo_model/baseline"
DEMO_FEATURES = json.loads(Path(DEMO_BASELINE, "constraints.json").read_text(encoding="utf-8"))[
    "features"
]
ANALYZER = "468650794304.dkr.ecr.eu-west-1.amazonaws.com/sagemaker-model-monitor-analyzer:latest"
CLARIFY = "131013547314.dkr.ecr.eu-west-1.amazonaws.com/sagemaker-clarify-processing:1.0"


def new_stack() -> tuple[cdk.Stage, cdk.Stack]:
    """A stack inside a stage, as in the real app (the nag packs validate the stage)."""
    stage = cdk.Stage(unit_app(), "Unit")
    return stage, cdk.Stack(stage, "Test", env=TEST_ENV)


def only(template: Template, kind: str) -> dict[str, Any]:
    found = template.find_resources(kind)
    assert len(found) == 1, list(found)
    return dict(next(iter(found.values())))


# --- drift job with defaults ---------------------------------------------------------------


class DriftScenario:
    def __init__(self) -> None:
        self.stage, self.stack = new_stack()
        self.endpoint = endpoint(self.stack)
        self.monitor = ModelMonitorSchedule(
            self.stack,
            "Drift",
            endpoint=self.endpoint,
            baseline=Baseline.from_directory(DEMO_BASELINE),
        )
        self.template = Template.from_stack(self.stack)
        schedule = only(self.template, "AWS::Scheduler::Schedule")
        self.target = schedule["Properties"]["Target"]
        self.schedule = schedule["Properties"]
        machine = only(self.template, "AWS::StepFunctions::StateMachine")
        self.definition = json.loads(resolve_join(machine["Properties"]["DefinitionString"]))
        self.request = self.definition["States"]["CreateProcessingJob"]["Parameters"]


@pytest.fixture(scope="module")
def drift() -> DriftScenario:
    return DriftScenario()


def test_drift_job_runs_hourly_through_a_state_machine_that_names_each_run(
    drift: DriftScenario,
) -> None:
    assert drift.schedule["ScheduleExpression"] == "cron(0 * ? * * *)"
    assert drift.target["Arn"] == ref(drift.template, "AWS::StepFunctions::StateMachine", "Drift")
    # The scheduled time is passed as a whole field value, the one form AWS documents.
    assert json.loads(drift.target["Input"]) == {"scheduledTime": "<aws.scheduler.scheduled-time>"}
    assert drift.definition["StartAt"] == "NameRun"
    assert drift.definition["States"]["NameRun"]["Parameters"] == {"id.$": "States.UUID()"}
    task = drift.definition["States"]["CreateProcessingJob"]
    assert task["Resource"].endswith(":states:::aws-sdk:sagemaker:createProcessingJob")
    assert drift.schedule["KmsKeyArn"] == {"Fn::GetAtt": ["ChurnKey4F4E816B", "Arn"]}
    assert drift.target["RetryPolicy"] == {
        "MaximumEventAgeInSeconds": 900,
        "MaximumRetryAttempts": 3,
    }
    assert "DeadLetterConfig" in drift.target
    # Exactly one monitoring resource family: no Model Monitor resources.
    assert drift.template.find_resources("AWS::SageMaker::MonitoringSchedule") == {}
    assert drift.monitor.job_definition is None
    assert drift.monitor.schedule is not None


def test_each_run_gets_a_unique_valid_job_name_and_the_scheduled_time(
    drift: DriftScenario,
) -> None:
    prefix = drift.monitor.job_name_prefix
    assert prefix is not None
    assert len(prefix) <= 63 - 8 - 1 - 36  # margin by construction (see below)
    assert drift.request["ProcessingJobName.$"] == f"States.Format('{prefix}-{{}}', $.run.id)"
    env = drift.request["Environment"]
    assert env["DRIFT_NOW.$"] == "$.scheduledTime"
    assert env["DRIFT_WINDOW"] == "previous-hour"
    assert env["sagemaker_endpoint_name"] == "churn-prod"
    assert env["sagemaker_monitoring_schedule_name"] == drift.monitor.schedule_name
    # The job lists only the window's hour folders of this endpoint itself (no capture input).
    assert env["dataset_source"] == "s3://capture-bucket/capture/churn-prod/"
    assert [i["InputName"] for i in drift.request["ProcessingInputs"]] == [
        "statistics",
        "constraints",
    ]
    assert drift.request["AppSpecification"]["ContainerEntrypoint"] == [
        "python", "-m", "mlops_runtime.drift", "analyze",
    ]  # fmt: skip


@pytest.mark.parametrize("stack_name", ["mlops-prod-monitoring", "m" * 128], ids=["prod", "long"])
def test_drift_job_names_keep_a_margin_for_any_stack_name(stack_name: str) -> None:
    """<prefix>-<States.UUID()> keeps 8 characters of margin for any stack name."""
    stack = cdk.Stack(cdk.Stage(unit_app(), "Unit"), stack_name, env=TEST_ENV)
    monitor = ModelMonitorSchedule(
        stack, "Drift", endpoint=endpoint(stack), baseline=Baseline.from_directory(DEMO_BASELINE)
    )
    assert monitor.job_name_prefix is not None
    assert len(f"{monitor.job_name_prefix}-{'x' * 36}") <= 63 - 8


def test_drift_job_encrypts_output_and_volume_and_encrypts_traffic(drift: DriftScenario) -> None:
    key = "<ChurnKey4F4E816B.Arn>"
    assert drift.request["ProcessingOutputConfig"]["KmsKeyId"] == key
    cluster = drift.request["ProcessingResources"]["ClusterConfig"]
    assert cluster == {
        "InstanceCount": 1,
        "InstanceType": "ml.m5.large",
        "VolumeSizeInGB": 20,
        "VolumeKmsKeyId": key,
    }
    assert drift.request["StoppingCondition"] == {"MaxRuntimeInSeconds": 3000}
    assert drift.request["NetworkConfig"] == {
        "EnableInterContainerTrafficEncryption": True,
        "EnableNetworkIsolation": False,
    }
    output = drift.request["ProcessingOutputConfig"]["Outputs"][0]["S3Output"]
    assert output["S3Uri.$"] == (
        f"States.Format('s3://capture-bucket/monitoring/{drift.monitor.schedule_name}/{{}}/', "
        "$.run.id)"
    )


def test_state_machine_role_creates_only_our_jobs_and_passes_only_the_job_role(
    drift: DriftScenario,
) -> None:
    # The schedule only starts the state machine; the state machine creates the jobs.
    starts = policy_statements(drift.template, "DriftSchedulerRole")
    assert "sagemaker:CreateProcessingJob" not in [s["Action"] for s in starts]
    statements = policy_statements(drift.template, "DriftDriftStateMachineRole")
    create = next(s for s in statements if s["Action"] == "sagemaker:CreateProcessingJob")
    prefix = drift.monitor.job_name_prefix
    assert prefix is not None
    assert prefix == prefix.lower()
    assert resolve_join(create["Resource"]).endswith(f":processing-job/{prefix}-*")
    passing = next(s for s in statements if s["Action"] == "iam:PassRole")
    assert passing["Condition"] == {
        "StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}
    }
    assert passing["Resource"] == {"Fn::GetAtt": ["DriftExecutionRoleFE2B5958", "Arn"]}


def test_job_role_reads_capture_of_this_endpoint_and_writes_its_reports(
    drift: DriftScenario,
) -> None:
    statements = policy_statements(drift.template, "DriftExecutionRole")
    rendered = [
        (s["Action"], resolve_join(s["Resource"]) if not isinstance(s["Resource"], list)
         else [resolve_join(r) for r in s["Resource"]], s.get("Condition"))
        for s in statements
    ]  # fmt: skip
    reads = next(r[1] for r in rendered if r[0] == "s3:GetObject")
    # The capture folder of this endpoint, and the two baseline files (assets).
    assert reads[0] == "arn:aws:s3:::capture-bucket/capture/churn-prod/*"
    assert len(reads) == 3
    assert all(r.endswith(".json") for r in reads[1:])
    # Listing only under that folder (the variant listing uses it with a delimiter), and
    # exactly the two baseline keys (Processing inputs are prefixes SageMaker lists).
    listings = [r for r in rendered if r[0] == "s3:ListBucket"]
    assert listings[0] == (
        "s3:ListBucket",
        "arn:aws:s3:::capture-bucket",
        {"StringLike": {"s3:prefix": ["capture/churn-prod/*"]}},
    )
    assert len(listings) == 3
    for _, bucket, condition in listings[1:]:
        assert bucket == "arn:aws:s3:::cdk-hnb659fds-assets-123456789012-eu-west-1"
        assert condition is not None
        (key,) = condition["StringEquals"]["s3:prefix"]
        assert key.endswith(".json")
    writes = [r for r in rendered if r[0] == ["s3:AbortMultipartUpload", "s3:PutObject"]]
    assert [w[1] for w in writes] == [
        f"arn:aws:s3:::capture-bucket/monitoring/{drift.monitor.schedule_name}/*"
    ]
    metrics = next(s for s in statements if s["Action"] == "cloudwatch:PutMetricData")
    assert metrics["Condition"]["StringLike"]["cloudwatch:namespace"] == [
        "/aws/sagemaker/*",
        "aws/sagemaker/*",
    ]
    assert all("*" not in action for s in statements for action in as_list(s["Action"]))


def test_drift_alarm_watches_every_baseline_feature(drift: DriftScenario) -> None:
    alarm = drift.template.to_json()["Resources"][
        drift.stack.get_logical_id(drift.monitor.drift_alarm.node.default_child)  # type: ignore[arg-type]
    ]["Properties"]
    metrics = [m for m in alarm["Metrics"] if "MetricStat" in m]
    names = [m["MetricStat"]["Metric"]["MetricName"] for m in metrics]
    assert names == [f"feature_baseline_drift_{f['name']}" for f in DEMO_FEATURES]
    dims = metrics[0]["MetricStat"]["Metric"]["Dimensions"]
    assert {d["Name"]: d["Value"] for d in dims} == {
        "Endpoint": "churn-prod",
        "MonitoringSchedule": drift.monitor.schedule_name,
    }
    assert metrics[0]["MetricStat"]["Metric"]["Namespace"] == DATA_METRICS_NAMESPACE
    assert alarm["Threshold"] == 0.1
    assert alarm["ComparisonOperator"] == "GreaterThanThreshold"
    assert alarm["AlarmActions"] == [{"Ref": "ChurnAlarmTopicBF91D50B"}]


def test_job_not_running_alarm_treats_missing_results_as_breaching(drift: DriftScenario) -> None:
    drift.template.has_resource_properties(
        "AWS::CloudWatch::Alarm",
        {
            "MetricName": "drift_job_records_analyzed",
            "Namespace": DATA_METRICS_NAMESPACE,
            "Statistic": "SampleCount",
            "Period": 3600,
            "ComparisonOperator": "LessThanThreshold",
            "Threshold": 1,
            "TreatMissingData": "breaching",
            "EvaluationPeriods": 2,
            "AlarmActions": [{"Ref": "ChurnAlarmTopicBF91D50B"}],
        },
    )
    assert drift.monitor.job_failed_alarm in drift.monitor.alarms
    # drift, dead letters, job not running, run could not start
    assert len(drift.monitor.alarms) == 4


def test_failed_jobs_notify_the_topic_through_a_role(drift: DriftScenario) -> None:
    prefix = drift.monitor.job_name_prefix
    drift.template.has_resource_properties(
        "AWS::Events::Rule",
        {
            "EventPattern": {
                "source": ["aws.sagemaker"],
                "detail-type": ["SageMaker Processing Job State Change"],
                "detail": {
                    "ProcessingJobName": [{"prefix": f"{prefix}-"}],
                    "ProcessingJobStatus": ["Failed", "Stopped"],
                },
            },
            "Targets": [
                Match.object_like(
                    {
                        "Arn": {"Ref": "ChurnAlarmTopicBF91D50B"},
                        "RoleArn": Match.any_value(),
                        "DeadLetterConfig": Match.any_value(),
                    }
                )
            ],
        },
    )
    # EventBridge publishes with a role: the topic's policy (maybe in another stack) is not
    # changed to let events.amazonaws.com in.
    policies = drift.template.find_resources("AWS::SNS::TopicPolicy")
    principals = [
        statement["Principal"]
        for policy in policies.values()
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]
    assert principals  # the SSL-only statement at least: the check below has something to read
    services = {
        service
        for principal in principals
        if isinstance(principal, dict)
        for service in as_list(principal.get("Service", []))
    }
    assert "events.amazonaws.com" not in services


def test_metric_namespace_matches_the_drift_job() -> None:
    assert DATA_METRICS_NAMESPACE == JOB_NAMESPACE


@pytest.mark.parametrize("pack", NAG_PACKS, ids=lambda p: p.__name__)
def test_drift_job_passes_nag_packs(drift: DriftScenario, pack: Any) -> None:
    assert findings(pack, drift.stage) == []


# --- Model Monitor, all four types, VPC, on_drift --------------------------------------------


class NativeScenario:
    def __init__(self) -> None:
        self.stage, self.stack = new_stack()
        stack = self.stack
        self.endpoint = endpoint(stack)
        bucket = s3.Bucket.from_bucket_name(stack, "Monitoring", "monitoring-bucket")
        vpc = ec2.Vpc(
            stack,
            "Vpc",
            max_azs=2,
            nat_gateways=0,
            subnet_configuration=[
                ec2.SubnetConfiguration(name="Private", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)
            ],
        )
        machine = sfn.StateMachine(
            stack,
            "Retrain",
            definition_body=sfn.DefinitionBody.from_chainable(sfn.Pass(stack, "Noop")),
        )
        function = lambda_.Function.from_function_arn(
            stack, "Fn", "arn:aws:lambda:eu-west-1:123456789012:function:retrain"
        )
        truth = GroundTruth(bucket=bucket, prefix="ground-truth/")
        analysis = ModelData.from_bucket(bucket, "clarify/analysis_config.json")
        common: dict[str, Any] = {
            "endpoint": self.endpoint,
            "backend": MonitorBackend.MODEL_MONITOR,
            "vpc": vpc,
            "reports": ReportLocation(bucket=bucket, prefix="reports/"),
        }
        self.data = ModelMonitorSchedule(
            stack,
            "Data",
            baseline=Baseline.from_bucket(bucket, "baseline/", features=["age", "income"]),
            on_drift=machine,
            instance_type="ml.r5d.xlarge",
            **common,
        )
        self.quality = ModelMonitorSchedule(
            stack,
            "Quality",
            monitoring_type=MonitoringType.MODEL_QUALITY,
            baseline=Baseline(constraints=ModelData.from_bucket(bucket, "mq/constraints.json")),
            problem_type="BinaryClassification",
            ground_truth=truth,
            inference_attribute="0",
            probability_threshold=0.5,
            schedule="cron(0 3 ? * * *)",
            max_runtime=cdk.Duration.hours(3),
            on_drift=function,
            **common,
        )
        self.bias = ModelMonitorSchedule(
            stack,
            "Bias",
            monitoring_type=MonitoringType.MODEL_BIAS,
            baseline=Baseline(constraints=ModelData.from_bucket(bucket, "bias/analysis.json")),
            ground_truth=truth,
            analysis_config=analysis,
            schedule="cron(0 0/6 ? * * *)",
            max_runtime=cdk.Duration.hours(2),
            **common,
        )
        self.explainability = ModelMonitorSchedule(
            stack,
            "Explain",
            monitoring_type=MonitoringType.MODEL_EXPLAINABILITY,
            baseline=Baseline(constraints=ModelData.from_bucket(bucket, "ex/analysis.json")),
            analysis_config=analysis,
            features_attribute="features",
            schedule="daily",
            **common,
        )
        self.template = Template.from_stack(stack)


@pytest.fixture(scope="module")
def native() -> NativeScenario:
    return NativeScenario()


@pytest.mark.parametrize(
    ("kind", "prefix", "image"),
    [
        ("DataQuality", "Data", ANALYZER),
        ("ModelQuality", "Model", ANALYZER),
        ("ModelBias", "ModelBias", CLARIFY),
        ("ModelExplainability", "ModelExplainability", CLARIFY),
    ],
    ids=["data-quality", "model-quality", "model-bias", "model-explainability"],
)
def test_each_type_has_its_job_definition_and_region_image(
    native: NativeScenario, kind: str, prefix: str, image: str
) -> None:
    props = only(native.template, f"AWS::SageMaker::{kind}JobDefinition")["Properties"]
    assert props[f"{kind}AppSpecification"]["ImageUri"] == image
    assert "JobDefinitionName" not in props  # generated: every property is create-only
    network = props["NetworkConfig"]
    assert network["EnableNetworkIsolation"] is True
    assert network["EnableInterContainerTrafficEncryption"] is True
    assert len(network["VpcConfig"]["Subnets"]) == 2
    assert props[f"{kind}JobOutputConfig"]["KmsKeyId"] == {
        "Fn::GetAtt": ["ChurnKey4F4E816B", "Arn"]
    }
    assert props[f"{kind}JobInput"]["EndpointInput"]["EndpointName"] == "churn-prod"


def test_type_specific_settings(native: NativeScenario) -> None:
    t = native.template
    quality = only(t, "AWS::SageMaker::ModelQualityJobDefinition")["Properties"]
    assert quality["ModelQualityAppSpecification"]["ProblemType"] == "BinaryClassification"
    assert quality["ModelQualityJobInput"]["GroundTruthS3Input"] == {
        "S3Uri": "s3://monitoring-bucket/ground-truth/"
    }
    assert quality["ModelQualityJobInput"]["EndpointInput"]["ProbabilityThresholdAttribute"] == 0.5
    bias = only(t, "AWS::SageMaker::ModelBiasJobDefinition")["Properties"]
    assert bias["ModelBiasAppSpecification"]["ConfigUri"] == (
        "s3://monitoring-bucket/clarify/analysis_config.json"
    )
    assert "GroundTruthS3Input" in bias["ModelBiasJobInput"]
    explain = only(t, "AWS::SageMaker::ModelExplainabilityJobDefinition")["Properties"]
    assert (
        explain["ModelExplainabilityJobInput"]["EndpointInput"]["FeaturesAttribute"] == "features"
    )
    assert "GroundTruthS3Input" not in explain["ModelExplainabilityJobInput"]
    definition = only(t, "AWS::SageMaker::DataQualityJobDefinition")
    data = definition["Properties"]
    # ml.r5d has NVMe instance storage: SageMaker rejects a volume key there, and checkov's
    # volume-encryption check is told why (found by the template audit).
    assert "VolumeKmsKeyId" not in data["JobResources"]["ClusterConfig"]
    (skip,) = definition["Metadata"]["checkov"]["skip"]
    assert skip["id"] == "CKV_AWS_368"
    assert skip["comment"].startswith("ml.r5d.xlarge has NVMe instance storage")
    keyed = only(t, "AWS::SageMaker::ModelQualityJobDefinition")
    assert "VolumeKmsKeyId" in keyed["Properties"]["JobResources"]["ClusterConfig"]
    assert "Metadata" not in keyed or "checkov" not in keyed["Metadata"]
    assert data["DataQualityBaselineConfig"]["StatisticsResource"] == {
        "S3Uri": "s3://monitoring-bucket/baseline/statistics.json"
    }


def test_schedules_reference_their_generated_job_definition_names(native: NativeScenario) -> None:
    schedules = native.template.find_resources("AWS::SageMaker::MonitoringSchedule")
    by_type = {
        s["Properties"]["MonitoringScheduleConfig"]["MonitoringType"]: s["Properties"]
        for s in schedules.values()
    }
    assert set(by_type) == {"DataQuality", "ModelQuality", "ModelBias", "ModelExplainability"}
    expressions = {k: v["MonitoringScheduleConfig"]["ScheduleConfig"]["ScheduleExpression"]
                   for k, v in by_type.items()}  # fmt: skip
    assert expressions == {
        "DataQuality": "cron(0 * ? * * *)",
        "ModelQuality": "cron(0 3 ? * * *)",
        "ModelBias": "cron(0 0/6 ? * * *)",
        "ModelExplainability": "cron(0 0 ? * * *)",
    }
    name = by_type["DataQuality"]["MonitoringScheduleConfig"]["MonitoringJobDefinitionName"]
    assert name["Fn::Select"][0] == 1
    assert name["Fn::Select"][1]["Fn::Split"][1]["Fn::GetAtt"][1] == "JobDefinitionArn"
    assert by_type["DataQuality"]["MonitoringScheduleName"] == native.data.schedule_name


def test_violations_and_failures_of_model_monitor_runs_notify(native: NativeScenario) -> None:
    rules = native.template.find_resources("AWS::Events::Rule")
    patterns = [r["Properties"]["EventPattern"] for r in rules.values()]
    details = [p.get("detail", {}) for p in patterns if p["source"] == ["aws.sagemaker"]]
    assert sum(1 for d in details if "ExitMessage" in d) == 4
    assert sum(1 for d in details if d.get("ProcessingJobStatus") == ["Failed", "Stopped"]) == 4
    violations = next(d for d in details if "ExitMessage" in d)
    assert violations["ExitMessage"] == [{"prefix": "CompletedWithViolations"}]
    arns = {
        resolve_join(d["MonitoringScheduleArn"][0]["equals-ignore-case"]).rsplit("/", 1)[1]
        for d in details
    }
    monitors = (native.data, native.quality, native.bias, native.explainability)
    assert arns == {m.schedule_name for m in monitors}


def test_data_quality_drift_alarm_uses_features_others_use_the_violations_rule(
    native: NativeScenario,
) -> None:
    assert native.data.features == ["age", "income"]
    quality_alarm = native.template.to_json()["Resources"][
        native.stack.get_logical_id(native.quality.drift_alarm.node.default_child)  # type: ignore[arg-type]
    ]["Properties"]
    assert quality_alarm["Namespace"] == "AWS/Events"
    assert quality_alarm["MetricName"] == "TriggeredRules"
    assert quality_alarm["Period"] == 86400


def test_on_drift_starts_a_state_machine_or_a_lambda(native: NativeScenario) -> None:
    rules = native.template.find_resources("AWS::Events::Rule")
    on_drift = [
        r["Properties"]
        for r in rules.values()
        if r["Properties"]["EventPattern"]["source"] == ["aws.cloudwatch"]
    ]
    assert len(on_drift) == 2
    for rule in on_drift:
        assert rule["EventPattern"]["detail-type"] == ["CloudWatch Alarm State Change"]
        assert rule["EventPattern"]["detail"] == {"state": {"value": ["ALARM"]}}
    targets = [r["Targets"][0]["Arn"] for r in on_drift]
    machine = ref(native.template, "AWS::StepFunctions::StateMachine", "Retrain")
    function = "arn:aws:lambda:eu-west-1:123456789012:function:retrain"
    assert len(targets) == 2
    assert machine in targets
    assert function in targets
    machine_rule = next(r for r in on_drift if "RoleArn" in r["Targets"][0])
    template = machine_rule["Targets"][0]["InputTransformer"]["InputTemplate"]
    assert '"reason":"drift"' in template
    statements = policy_statements(native.template, "DataEventsRole")
    assert any(s["Action"] == "states:StartExecution" for s in statements)


@pytest.mark.parametrize("pack", NAG_PACKS, ids=lambda p: p.__name__)
def test_model_monitor_passes_nag_packs(native: NativeScenario, pack: Any) -> None:
    # The scenario's plain VPC and state machine are test scaffolding, not the monitors.
    monitors = ("/Data/", "/Quality/", "/Bias/", "/Explain/")
    assert [f for f in findings(pack, native.stage) if any(m in f for m in monitors)] == []


# --- an endpoint deployed elsewhere --------------------------------------------------------


def test_endpoint_deployed_elsewhere_gets_its_own_key_topic_and_composite_alarm() -> None:
    _, stack = new_stack()
    capture = s3.Bucket.from_bucket_name(stack, "Capture", "their-capture")
    features = [f"f{i}" for i in range(12)]
    monitor = ModelMonitorSchedule(
        stack,
        "Drift",
        endpoint=MonitoredEndpoint(endpoint_name="their-endpoint", bucket=capture),
        baseline=Baseline.from_bucket(capture, "baseline/"),
        features=features,
        schedule="daily",
        max_runtime=cdk.Duration.hours(4),
        drift_threshold=0.2,
        min_records_per_run=100,
    )
    template = Template.from_stack(stack)
    template.resource_count_is("AWS::KMS::Key", 1)
    template.resource_count_is("AWS::SNS::Topic", 1)
    template.resource_count_is("AWS::CloudWatch::CompositeAlarm", 1)
    assert isinstance(monitor.drift_alarm, cdk.aws_cloudwatch.CompositeAlarm)
    parts = [
        a["Properties"]
        for a in template.find_resources("AWS::CloudWatch::Alarm").values()
        if "Metrics" in a["Properties"]
    ]
    assert sorted(len([m for m in p["Metrics"] if "MetricStat" in m]) for p in parts) == [2, 10]
    assert all(p["Threshold"] == 0.2 for p in parts)
    template.has_resource_properties(
        "AWS::CloudWatch::Alarm",
        {
            "MetricName": "drift_job_records_analyzed",
            "Statistic": "Minimum",
            "Threshold": 100,
            "ComparisonOperator": "LessThanThreshold",
            "Period": 86400,
            "TreatMissingData": "notBreaching",
        },
    )
    machine = only(template, "AWS::StepFunctions::StateMachine")["Properties"]
    definition = json.loads(resolve_join(machine["DefinitionString"]))
    request = definition["States"]["CreateProcessingJob"]["Parameters"]
    assert request["Environment"]["DRIFT_WINDOW"] == "previous-day"
    assert (
        request["Environment"]["dataset_source"]
        == "s3://their-capture/data-capture/their-endpoint/"
    )


def test_given_key_and_topic_are_used() -> None:
    _, stack = new_stack()
    key = kms.Key(stack, "MyKey", enable_key_rotation=True)
    topic = sns.Topic(stack, "MyTopic", master_key=key)
    monitor = ModelMonitorSchedule(
        stack,
        "Drift",
        endpoint=endpoint(stack),
        baseline=Baseline.from_directory(DEMO_BASELINE),
        encryption_key=key,
        alarm_topic=topic,
        schedule_name="churn-drift",
    )
    assert monitor.encryption_key is key
    assert monitor.alarm_topic is topic
    assert monitor.schedule_name == "churn-drift"
    template = Template.from_stack(stack)
    alarm = {
        k: v for k, v in template.find_resources("AWS::CloudWatch::Alarm").items() if "Drift" in k
    }
    assert len(alarm) == 4
    assert all(
        a["Properties"]["AlarmActions"] == [{"Ref": "MyTopic86869434"}] for a in alarm.values()
    )


def test_both_backends_pass_cfn_lint(
    drift: DriftScenario, native: NativeScenario, quality: QualityScenario, tmp_path: Path
) -> None:
    # The app deploys only the drift job; lint all four Model Monitor job definitions too.

    files = []
    scenarios: tuple[tuple[str, Any], ...] = (
        ("drift", drift),
        ("native", native),
        ("quality", quality),
    )
    for name, scenario in scenarios:
        path = tmp_path / f"{name}.template.json"
        path.write_text(json.dumps(scenario.template.to_json()), encoding="utf-8")
        files.append(path)
    result = cfn_lint(files)
    assert result.returncode == 0, result.stdout + result.stderr


def test_model_monitor_role_lists_only_the_keys_and_prefixes_it_reads(
    native: NativeScenario,
) -> None:
    listed = {
        (resolve_join(s["Resource"]), json.dumps(s.get("Condition"), sort_keys=True))
        for s in policy_statements(native.template, "Bias")
        if s["Action"] == "s3:ListBucket"
    }
    bucket = "arn:aws:s3:::monitoring-bucket"
    assert listed == {
        ("arn:aws:s3:::capture-bucket", '{"StringLike": {"s3:prefix": ["capture/churn-prod/*"]}}'),
        (bucket, '{"StringEquals": {"s3:prefix": ["bias/analysis.json"]}}'),
        (bucket, '{"StringEquals": {"s3:prefix": ["clarify/analysis_config.json"]}}'),
        (bucket, '{"StringLike": {"s3:prefix": ["ground-truth/*"]}}'),
    }


# --- drift job: model quality on several instances -----------------------------------------


class QualityScenario:
    def __init__(self) -> None:
        self.stage, self.stack = new_stack()
        self.endpoint = endpoint(self.stack)
        truth_bucket = s3.Bucket.from_bucket_name(self.stack, "Truth", "truth-bucket")
        self.monitor = ModelMonitorSchedule(
            self.stack,
            "Quality",
            endpoint=self.endpoint,
            baseline=Baseline(
                constraints=ModelData.from_bucket(truth_bucket, "baseline/constraints.json")
            ),
            monitoring_type=MonitoringType.MODEL_QUALITY,
            problem_type="BinaryClassification",
            ground_truth=GroundTruth(bucket=truth_bucket, prefix="labels/"),
            probability_threshold=0.4,
            label_delay=cdk.Duration.hours(24),
            instance_count=4,
            quality_alarm=QualityAlarm(metric="auc", threshold=0.75),
        )
        self.template = Template.from_stack(self.stack)
        machine = only(self.template, "AWS::StepFunctions::StateMachine")
        self.machine = machine["Properties"]
        self.definition = json.loads(resolve_join(machine["Properties"]["DefinitionString"]))
        self.map = self.definition["States"]["RunMapJob"]
        self.reduce = self.definition["States"]["CreateReduceJob"]


@pytest.fixture(scope="module")
def quality() -> QualityScenario:
    return QualityScenario()


def test_map_job_runs_to_completion_on_every_instance_then_the_reduce_job_starts(
    quality: QualityScenario,
) -> None:
    states = quality.definition["States"]
    assert quality.definition["StartAt"] == "NameRun"
    assert states["NameRun"]["Parameters"] == {
        "id.$": "States.UUID()",
        "reduceId.$": "States.UUID()",
    }
    assert states["NameRun"]["Next"] == "RunMapJob"
    assert quality.map["Resource"].endswith(":states:::sagemaker:createProcessingJob.sync")
    assert quality.map["Next"] == "CreateReduceJob"
    assert quality.reduce["Resource"].endswith(":states:::aws-sdk:sagemaker:createProcessingJob")
    # The state machine waits for the map job: its runtime plus the start-up margin.
    assert quality.definition["TimeoutSeconds"] == 50 * 60 + 30 * 60
    mapped, reduced = quality.map["Parameters"], quality.reduce["Parameters"]
    assert mapped["ProcessingResources"]["ClusterConfig"]["InstanceCount"] == 4
    assert reduced["ProcessingResources"]["ClusterConfig"]["InstanceCount"] == 1
    assert mapped["Environment"]["DRIFT_MODE"] == "map"
    assert reduced["Environment"]["DRIFT_MODE"] == "reduce"
    (partials_out,) = mapped["ProcessingOutputConfig"]["Outputs"]
    partials_in = reduced["ProcessingInputs"][-1]
    assert partials_out["S3Output"]["LocalPath"] == mapped["Environment"]["DRIFT_PARTIALS"]
    assert partials_in["S3Input"]["LocalPath"] == reduced["Environment"]["DRIFT_PARTIALS"]
    # The reduce job reads exactly where the map job wrote.
    assert partials_in["S3Input"]["S3Uri.$"] == partials_out["S3Output"]["S3Uri.$"]
    assert "/partials/" in partials_out["S3Output"]["S3Uri.$"]
    assert reduced["ProcessingOutputConfig"]["Outputs"][0]["OutputName"] == "report"
    assert reduced["ProcessingJobName.$"].endswith("$.run.reduceId)")
    assert reduced["StoppingCondition"] == {"MaxRuntimeInSeconds": 300}


def test_model_quality_environment_and_inputs(quality: QualityScenario) -> None:
    env = quality.reduce["Parameters"]["Environment"]
    assert env["DRIFT_MONITORING_TYPE"] == "ModelQuality"
    assert env["problem_type"] == "BinaryClassification"
    assert env["ground_truth_source"] == "s3://truth-bucket/labels/"
    assert env["DRIFT_LABEL_DELAY_HOURS"] == "24"
    assert env["probability_threshold_attribute"] == "0.4"
    assert [i["InputName"] for i in quality.map["Parameters"]["ProcessingInputs"]] == [
        "constraints"
    ]


def test_quality_alarm_watches_the_model_metric_and_starts_nothing_else(
    quality: QualityScenario,
) -> None:
    alarm = quality.template.find_resources(
        "AWS::CloudWatch::Alarm", {"Properties": {"MetricName": "auc"}}
    )
    ((_, resource),) = alarm.items()
    props = resource["Properties"]
    assert props["Namespace"] == "aws/sagemaker/Endpoints/model-metrics"
    assert props["ComparisonOperator"] == "LessThanThreshold"
    assert props["Threshold"] == 0.75
    assert {d["Name"] for d in props["Dimensions"]} == {"Endpoint", "MonitoringSchedule"}
    assert props["AlarmActions"]
    assert quality.monitor.drift_alarm.alarm_arn  # on_drift watches this one


def test_sync_and_reduce_grants(quality: QualityScenario) -> None:
    machine_role = policy_statements(quality.template, "QualityDriftStateMachineRole")
    actions = {a for statement in machine_role for a in as_list(statement["Action"])}
    assert {
        "sagemaker:CreateProcessingJob",
        "sagemaker:DescribeProcessingJob",
        "sagemaker:StopProcessingJob",
        "events:PutTargets",
        "events:PutRule",
        "events:DescribeRule",
    } <= actions
    rule = next(s for s in machine_role if "events:PutRule" in as_list(s["Action"]))
    assert "rule/StepFunctionsGetEventsForSageMakerProcessingJobsRule" in json.dumps(
        rule["Resource"]
    )
    job_role = json.dumps(policy_statements(quality.template, "QualityExecutionRole"))
    assert "labels/*" in job_role  # ground truth
    assert f"monitoring/{quality.monitor.schedule_name}/*" in job_role  # partials, reports


@pytest.mark.parametrize("pack", NAG_PACKS, ids=lambda p: p.__name__)
def test_model_quality_drift_job_passes_nag_packs(quality: QualityScenario, pack: Any) -> None:
    assert findings(pack, quality.stage) == []


def test_quality_metric_names_match_the_drift_job() -> None:
    from mlops_cdk._internal.model_quality import QUALITY_METRICS
    from mlops_cdk.constructs.model_monitor.construct import MODEL_METRICS_NAMESPACE
    from mlops_cdk.runtime.drift import quality as job

    assert MODEL_METRICS_NAMESPACE == job.MODEL_METRICS_NAMESPACE
    for kind, names in QUALITY_METRICS.items():
        assert set(names) == set(job.new_accumulator(kind).metrics()), kind


def test_dashboard_shows_the_watched_quality_metric(quality: QualityScenario) -> None:
    titles = [
        json.dumps(quality.stack.resolve(w.to_json())) for w in quality.monitor.dashboard_widgets()
    ]
    (graph,) = [t for t in titles if '"Quality: auc"' in t]
    assert "aws/sagemaker/Endpoints/model-metrics" in graph
    assert '"value": 0.75' in graph

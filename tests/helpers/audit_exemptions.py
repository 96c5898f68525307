"""What the template audit (tests/helpers/template_audit.py) accepts on purpose, each with why.

``EXEMPTIONS``: findings of requests, IAM or limits in templates that a test or fixture builds
on purpose; keyed by the owner (test node ID or ``<path>::<fixture>``) and a part of the finding.
``CHECKOV_EXEMPTIONS``: checkov failures of test scaffolding, by check and resource (and owner
where the scaffolding belongs to one test). Library code has no entry here: a construct explains
its own findings on its resources (``mlops_cdk._internal.checkov.skip``), so consumers get them.
An exemption that explains nothing fails the audit: remove it when its reason goes away.
"""

from __future__ import annotations

from tests.helpers.template_audit import CheckovExemption, Exemption

_TRIGGERS = "tests/unit/internal/test_triggers.py"
_SCHEDULE_ROLE = (
    f"{_TRIGGERS}::test_schedule_role_is_scoped_to_this_account_and_gets_statements_and_the_key"
)

EXEMPTIONS: tuple[Exemption, ...] = (
    Exemption(
        "tests/compliance/test_aws_requests.py::test_pipeline_parameter_names_follow_the_model",
        "PipelineParameterList[0].Name: 'bad name!' does not match",
        "The planted defect the request checker must catch (the test asserts it does).",
    ),
    *(
        Exemption(
            "tests/unit/constructs/ml_pipeline/test_construct.py"
            "::test_custom_graph_replaces_the_standard_one",
            f"step 'Only': sagemaker:CreateProcessingJob {member}: required member missing",
            "The test passes a one-step custom graph with minimal arguments to show it replaces "
            "the standard graph; a real custom step brings its own complete arguments.",
        )
        for member in ("ProcessingResources", "RoleArn")
    ),
    *(
        Exemption(
            _SCHEDULE_ROLE,
            f"Target.Input: sqs:SendMessage {member}: required member missing",
            "A dummy SQS universal target: the test checks the schedule's role, retry and "
            "dead-letter wiring, not the message the target would send.",
        )
        for member in ("MessageBody", "QueueUrl")
    ),
)

_PLAIN_BUCKET = ("CKV_AWS_18", "CKV_AWS_21", "CKV_AWS_53", "CKV_AWS_54", "CKV_AWS_55", "CKV_AWS_56")
_TEST_INPUT = (
    "A plain resource a test creates directly on its stack (no construct prefix in the logical "
    "ID) as an input to the code under test; the constructs create theirs through "
    "mlops_cdk._internal.defaults."
)
_CDK_HANDLER = ("CKV_AWS_115", "CKV_AWS_116", "CKV_AWS_117")

CHECKOV_EXEMPTIONS: tuple[CheckovExemption, ...] = (
    CheckovExemption(
        _CDK_HANDLER,
        "CustomVpcRestrictDefaultSGCustomResourceProvider",
        "CDK's provider that closes the default security group of a test's own VPC (the "
        "Network stack explains it for the environments).",
    ),
    CheckovExemption(
        _CDK_HANDLER,
        "AWS::Lambda::Function.BucketNotificationsHandler",
        "CDK's S3 notification handler: the test gives a bucket an L2 notification on purpose, "
        "to show the trigger leaves such a bucket to it.",
        owner=f"{_TRIGGERS}::test_a_bucket_whose_l2_already_sends_events_is_left_to_it",
    ),
    CheckovExemption(_PLAIN_BUCKET, "AWS::S3::Bucket.Bucket83908E77", _TEST_INPUT),
    CheckovExemption(_PLAIN_BUCKET, "AWS::S3::Bucket.Data666C94C7", _TEST_INPUT, owner=_TRIGGERS),
    CheckovExemption(("CKV_AWS_26",), "AWS::SNS::Topic.TopicBFC7AF6E", _TEST_INPUT),
    CheckovExemption(
        ("CKV_AWS_26",), "AWS::SNS::Topic.Plain295EB121", _TEST_INPUT, owner=_TRIGGERS
    ),
    CheckovExemption(("CKV_AWS_7",), "AWS::KMS::Key.Key961B73FD", _TEST_INPUT),
    CheckovExemption(
        ("CKV_AWS_27",), "AWS::SQS::Queue.Queue4A7E3555", _TEST_INPUT, owner=_TRIGGERS
    ),
    CheckovExemption(
        _PLAIN_BUCKET,
        "AWS::S3::Bucket.Plain295EB121",
        "The canary bucket checkov must report (tests/compliance/test_checkov.py).",
        owner="tests/compliance/test_checkov.py",
    ),
    CheckovExemption(
        ("CKV_AWS_111",),
        "AWS::IAM::ManagedPolicy.ThingSchedulerRolePermissions",
        "The test hands the schedule role a sqs:SendMessage statement on '*' to check that "
        "given statements reach the role; no construct grants that.",
        owner=_SCHEDULE_ROLE,
    ),
    CheckovExemption(
        ("CKV_AWS_73", "CKV_AWS_76", "CKV_AWS_120"),
        "AWS::ApiGateway::Stage.ApiDeploymentStageprod",
        "A bare CDK RestApi the test builds to show the endpoint fits where CDK takes an "
        "IEndpoint; the library's own API (LambdaInference's InferenceApi) is checked elsewhere.",
        owner="tests/unit/constructs/realtime_endpoint/test_iendpoint.py",
    ),
    CheckovExemption(
        ("CKV_AWS_59",),
        "AWS::ApiGateway::Method.ApiPOST",
        "The same test's bare RestApi method (no authorizer: it is never deployed).",
        owner="tests/unit/constructs/realtime_endpoint/test_iendpoint.py",
    ),
    CheckovExemption(
        ("CKV_AWS_117",),
        "AWS::Lambda::Function.BasicFunction",
        "By design: a LambdaInference outside a VPC without outside_vpc_reason is left for the "
        "compliance tools to report (the test's defaults scenario shows exactly that).",
        owner="tests/unit/constructs/lambda_inference/test_construct.py::scenario",
    ),
    CheckovExemption(
        _PLAIN_BUCKET,
        "AWS::S3::Bucket.Artifacts",
        _TEST_INPUT,
        owner="tests/unit/constructs/model_registry/test_construct.py",
    ),
    *(
        CheckovExemption(_PLAIN_BUCKET, "AWS::S3::Bucket.Models", _TEST_INPUT, owner=owner)
        for owner in (
            "tests/loop/test_multi_model_app.py",
            "tests/unit/constructs/realtime_endpoint/test_multi_model.py",
        )
    ),
    CheckovExemption(
        ("CKV_AWS_73", "CKV_AWS_76", "CKV_AWS_120"),
        "AWS::ApiGateway::Stage.ApiDeploymentStageprod",
        "A bare CDK RestApi the test builds to show an existing endpoint fits where CDK takes an "
        "IEndpoint; the library's own APIs (EndpointApi, InferenceApi) are checked elsewhere.",
        owner="tests/unit/constructs/realtime_endpoint/test_existing.py",
    ),
    CheckovExemption(
        ("CKV_AWS_59",),
        "AWS::ApiGateway::Method.ApiPOST",
        "The same test's bare RestApi method (no authorizer: it is never deployed).",
        owner="tests/unit/constructs/realtime_endpoint/test_existing.py",
    ),
    *(
        CheckovExemption(
            checks,
            resource,
            "A team's own cluster and load balancer, created plainly as inputs to show the service "
            "uses them (bring-your-own); the construct's own resources carry their explanations.",
            owner="tests/unit/constructs/ecs_model_service/test_existing.py",
        )
        for checks, resource in (
            (("CKV_AWS_65",), "AWS::ECS::Cluster.Shared"),
            (("CKV_AWS_131", "CKV_AWS_91"), "AWS::ElasticLoadBalancingV2::LoadBalancer.Alb"),
        )
    ),
    *(
        CheckovExemption(
            checks,
            resource,
            "Plain CDK ECS (cluster, ALB, HTTP listener) the test builds to show that CDK's own "
            "AlternateTarget attaches the AWS-managed policy; not a construct of this library.",
            owner="tests/unit/constructs/ecs_model_service/test_rollouts.py"
            "::test_cdk_default_alternate_target_would_attach_the_aws_managed_policy",
        )
        for checks, resource in (
            (("CKV_AWS_65",), "AWS::ECS::Cluster.Cluster"),
            (("CKV_AWS_131", "CKV_AWS_91"), "AWS::ElasticLoadBalancingV2::LoadBalancer.Alb"),
            (("CKV_AWS_260",), "AWS::EC2::SecurityGroup.AlbSecurityGroup"),
            (("CKV_AWS_2", "CKV_AWS_103"), "AWS::ElasticLoadBalancingV2::Listener.AlbL"),
        )
    ),
)

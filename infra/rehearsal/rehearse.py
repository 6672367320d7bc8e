#!/usr/bin/env python3
"""Deploy rehearsal: template.yaml through the SAM translator into moto's
CloudFormation, on loopback, without an AWS account.

It does what `sam deploy` does up to the point where AWS takes over:
  1. expands the SAM transform with aws-sam-translator (the library
     CloudFormation's own transform runs);
  2. packages a stub artifact per function (a zip holding a `bootstrap`) into
     an artifacts bucket, and points each function's CodeUri at it;
  3. creates the stack in moto's CloudFormation, once with the dev defaults and
     once with every optional part switched on (CORS origins, an alarm
     subscription, an outside JWT issuer), so that both sides of every
     condition are created;
  4. asserts that every resource of the expanded template reached
     CREATE_COMPLETE and that every output the conditions allow has a value.

moto is lenient: this proves that the template expands and creates, with its
references, conditions and outputs intact; not that AWS accepts every property
(cfn-lint checks those against AWS's schemas).

Usage: python3 infra/rehearsal/rehearse.py [template.yaml]
Needs aws-sam-translator, moto[server] and boto3 (see README.md, Development).
"""

import io
import json
import os
import sys
import time
import zipfile

import logging

import boto3
from moto.cloudformation.parsing import get_model_list, get_model_map, get_name_type_map
from moto.core.common_models import CloudFormationModel
from moto.server import ThreadedMotoServer
from samtranslator.translator.managed_policy_translator import ManagedPolicyLoader
from samtranslator.translator.transform import transform
from samtranslator.yaml_helper import yaml_parse

REGION = "us-east-1"
ARTIFACTS = "microcert-rehearsal-artifacts"

# Parameter sets: each one a stack. The second turns on what the first leaves off.
STACKS = {
    "microcert-dev": {"Env": "dev"},
    "microcert-prod": {
        "Env": "prod",
        "CorsAllowedOrigins": "https://console.example.com,https://review.example.com",
        "AlarmSubscriptionEndpoint": "oncall@example.com",
        "JwtIssuer": "https://issuer.example.com",
        "JwtAudience": "microcert-apps",
        "LogRetentionDays": "365",
    },
}


class NoManagedPolicies(ManagedPolicyLoader):
    """The template names no managed policy by name (inline statements only;
    the lint in infra/template insists), so there is nothing to look up."""

    def __init__(self):
        pass

    def load(self):
        return {}


class Alarm(CloudFormationModel):
    """AWS::CloudWatch::Alarm for moto's CloudFormation, which (5.2) has none:
    each alarm is created through moto's CloudWatch API, so botocore checks its
    properties against the PutMetricAlarm model and moto keeps the alarm. It
    must be defined before moto first builds its model map."""

    # moto files its models by the service in their module's name.
    __module__ = "moto.cloudwatch.rehearsal"
    endpoint = None  # set once the server listens

    def __init__(self, name, arn):
        self.name = name
        self.arn = arn

    @staticmethod
    def cloudformation_type():
        return "AWS::CloudWatch::Alarm"

    @staticmethod
    def cloudformation_name_type():
        return "AlarmName"

    @classmethod
    def create_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        props = json.loads(json.dumps(cloudformation_json["Properties"]))
        props["AlarmName"] = props.get("AlarmName") or resource_name
        # CloudFormation converts parameter strings to the property's type; the API does not.
        for k in ("Period", "EvaluationPeriods", "DatapointsToAlarm"):
            if k in props:
                props[k] = int(props[k])
        if "Threshold" in props:
            props["Threshold"] = float(props["Threshold"])
        for q in props.get("Metrics", []):
            if "Period" in q:
                q["Period"] = int(q["Period"])
            if "MetricStat" in q:
                q["MetricStat"]["Period"] = int(q["MetricStat"]["Period"])
        cw = client("cloudwatch", cls.endpoint)
        cw.put_metric_alarm(**props)
        alarm = cw.describe_alarms(AlarmNames=[props["AlarmName"]])["MetricAlarms"][0]
        return cls(alarm["AlarmName"], alarm["AlarmArn"])

    @property
    def physical_resource_id(self):
        return self.name

    @classmethod
    def has_cfn_attr(cls, attr):
        return attr == "Arn"

    def get_cfn_attribute(self, attribute_name):
        return self.arn


class Placeholder:
    """A resource type moto's CloudFormation cannot create. It is recorded with
    a physical id and an ARN so that Ref and GetAtt on it resolve; nothing
    checks its properties (cfn-lint does). The rehearsal names these types."""

    def __init__(self, physical_id, arn):
        self.physical_id = physical_id
        self.arn = arn

    @classmethod
    def create_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        service = cls.cloudformation_type().split("::")[1].lower()
        return cls(resource_name, f"arn:aws:{service}:{region_name}:{account_id}:placeholder/{resource_name}")

    @property
    def physical_resource_id(self):
        return self.physical_id

    @classmethod
    def has_cfn_attr(cls, attr):
        return True

    def get_cfn_attribute(self, attribute_name):
        return self.arn if attribute_name == "Arn" else f"{self.physical_id}.{attribute_name}"


def placeholders(resource_types):
    """Registers a Placeholder for each type moto has no model of; returns them."""
    missing = sorted(t for t in set(resource_types) if t not in get_model_map())
    for t in missing:
        # A direct subclass: moto lists CloudFormationModel.__subclasses__().
        type(
            "Placeholder" + t.replace("::", ""),
            (Placeholder, CloudFormationModel),
            {"__module__": "moto.cloudformation.rehearsal", "cloudformation_type": staticmethod(lambda t=t: t)},
        )
    for cached in (get_model_list, get_model_map, get_name_type_map):
        cached.cache_clear()
    return missing


def client(service, endpoint):
    return boto3.session.Session(
        aws_access_key_id="rehearsal", aws_secret_access_key="rehearsal", region_name=REGION
    ).client(service, endpoint_url=endpoint)


def stub_zip():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        info = zipfile.ZipInfo("bootstrap")
        info.external_attr = 0o755 << 16
        z.writestr(info, "#!/bin/sh\necho rehearsal stub\n")
    return buf.getvalue()


def package(sam, s3):
    """Points every function at a stub artifact, as `sam package` points them at
    the built ones."""
    s3.create_bucket(Bucket=ARTIFACTS)
    body = stub_zip()
    for logical_id, res in sam["Resources"].items():
        if res.get("Type") != "AWS::Serverless::Function":
            continue
        key = f"{logical_id}.zip"
        s3.put_object(Bucket=ARTIFACTS, Key=key, Body=body)
        res["Properties"]["CodeUri"] = f"s3://{ARTIFACTS}/{key}"


def expected(cfn_template, params):
    """The resources and outputs that must exist: those whose condition holds."""
    conditions = evaluate_conditions(cfn_template, params)
    resources = {
        lid
        for lid, r in cfn_template["Resources"].items()
        if "Condition" not in r or conditions[r["Condition"]]
    }
    outputs = {
        name
        for name, o in cfn_template.get("Outputs", {}).items()
        if "Condition" not in o or conditions[o["Condition"]]
    }
    return resources, outputs


def evaluate_conditions(cfn_template, params):
    """Evaluates the template's conditions for params (the subset of intrinsic
    functions conditions may use)."""
    values = {}
    for name, p in cfn_template.get("Parameters", {}).items():
        v = params.get(name, str(p.get("Default", "")))
        values[name] = v.split(",") if p.get("Type") == "CommaDelimitedList" else v
    conds = cfn_template.get("Conditions", {})

    def ev(x):
        if isinstance(x, dict) and len(x) == 1:
            (k, a), = x.items()
            if k == "Ref":
                return values[a]
            if k == "Condition":
                return ev(conds[a])
            if k == "Fn::Equals":
                return ev(a[0]) == ev(a[1])
            if k == "Fn::Not":
                return not ev(a[0])
            if k == "Fn::And":
                return all(ev(e) for e in a)
            if k == "Fn::Or":
                return any(ev(e) for e in a)
            if k == "Fn::Join":
                return a[0].join(ev(a[1]))
            raise ValueError(f"condition function {k} is not supported here")
        return x

    return {name: ev(c) for name, c in conds.items()}


def create(cfn, name, template, params):
    cfn.create_stack(
        StackName=name,
        TemplateBody=json.dumps(template),
        Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in params.items()],
        Capabilities=["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"],
    )
    deadline = time.monotonic() + 120
    while True:
        stack = cfn.describe_stacks(StackName=name)["Stacks"][0]
        if not stack["StackStatus"].endswith("_IN_PROGRESS"):
            return stack
        if time.monotonic() > deadline:
            raise TimeoutError(f"{name}: still {stack['StackStatus']} after 120 s")
        time.sleep(0.2)


def check_alarms(name, template, got, cloudwatch):
    """Every alarm of the stack exists in CloudWatch and notifies the alarm topic."""
    problems = []
    topic = got.get("AlarmTopic", {}).get("PhysicalResourceId")
    if not topic:
        return [f"{name}: no AlarmTopic"]
    alarms = {}
    for page in cloudwatch.get_paginator("describe_alarms").paginate():
        for a in page["MetricAlarms"]:
            alarms[a["AlarmName"]] = a
    for lid, r in template["Resources"].items():
        if r["Type"] != "AWS::CloudWatch::Alarm":
            continue
        a = alarms.get(got.get(lid, {}).get("PhysicalResourceId"))
        if a is None:
            problems.append(f"{name}: alarm {lid} is not in CloudWatch")
        elif a.get("AlarmActions") != [topic]:
            problems.append(f"{name}: alarm {lid} notifies {a.get('AlarmActions')}, not the alarm topic {topic}")
    return problems


def rehearse(template_path):
    with open(template_path) as f:
        sam = yaml_parse(f.read())

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per request otherwise
    logging.getLogger("samtranslator.metrics").setLevel(logging.ERROR)  # its usage metrics go nowhere
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    Alarm.endpoint = endpoint
    s3 = client("s3", endpoint)
    cfn = client("cloudformation", endpoint)
    cloudwatch = client("cloudwatch", endpoint)

    problems = []
    try:
        package(sam, s3)
        for name, params in STACKS.items():
            template = transform(json.loads(json.dumps(sam)), params, NoManagedPolicies())
            want_resources, want_outputs = expected(template, params)
            unmodelled = placeholders(r["Type"] for r in template["Resources"].values())
            if unmodelled:
                print(f"rehearsal: moto has no CloudFormation model of {', '.join(unmodelled)}: created as placeholders")
            stack = create(cfn, name, template, params)
            if stack["StackStatus"] != "CREATE_COMPLETE":
                problems.append(f"{name}: {stack['StackStatus']}: {stack.get('StackStatusReason', '')}")
            got = {}
            for page in cfn.get_paginator("list_stack_resources").paginate(StackName=name):
                for r in page["StackResourceSummaries"]:
                    # moto lists a resource whose condition is false as an empty summary.
                    if r["LogicalResourceId"]:
                        got[r["LogicalResourceId"]] = r
            for lid in sorted(want_resources):
                r = got.get(lid)
                if r is None:
                    problems.append(f"{name}: {lid} was not created")
                elif r["ResourceStatus"] != "CREATE_COMPLETE":
                    problems.append(f"{name}: {lid} is {r['ResourceStatus']}: {r.get('ResourceStatusReason', '')}")
            for lid in sorted(set(got) - want_resources):
                problems.append(f"{name}: {lid} was created though its condition is false")
            outputs = {o["OutputKey"]: o.get("OutputValue", "") for o in stack.get("Outputs", [])}
            for out in sorted(want_outputs):
                if not outputs.get(out):
                    problems.append(f"{name}: output {out} is missing or empty")
            for out in sorted(set(outputs) - want_outputs):
                problems.append(f"{name}: output {out} exists though its condition is false")
            problems += check_alarms(name, template, got, cloudwatch)
            print(
                f"rehearsal: {name}: {stack['StackStatus']}, "
                f"{len(want_resources)} resources, {len(want_outputs)} outputs"
            )
    finally:
        server.stop()
    return problems


def main():
    # Nothing of the developer's AWS configuration takes part: the translator
    # asks boto3 for a region, and every client talks to moto only.
    os.environ.update(
        {"AWS_DEFAULT_REGION": REGION, "AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull}
    )
    template_path = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.getcwd(), "template.yaml")
    problems = rehearse(template_path)
    for p in problems:
        print("rehearsal: " + p, file=sys.stderr)
    if problems:
        print(f"rehearsal: FAILED ({len(problems)} problems)", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()

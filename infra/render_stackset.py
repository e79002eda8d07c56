"""Render infra/template.yaml into the plain CloudFormation template a StackSet deploys.

StackSets with service-managed permissions cannot run transforms (AWS::Serverless is one),
so the SAM template is expanded here with the AWS SAM translator, and each function's code
comes from S3: `${CodeBucketPrefix}-${AWS::Region}/logmend/${CodeVersion}/<function>.zip`,
one bucket per region (Lambda reads code only from a bucket in its own region).

Usage: render_stackset.py [--out infra/build/logmend-stack-instance.json]
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib

import yaml
from samtranslator.translator.transform import transform

ROOT = pathlib.Path(__file__).resolve().parent.parent


class NoManagedPolicies:
    """The template names no managed policy; the translator need not ask IAM for any."""

    def load(self) -> dict:
        return {}


def render() -> dict:
    template = yaml.safe_load((ROOT / "infra/template.yaml").read_text())
    functions = {}
    for logical, resource in template["Resources"].items():
        if resource["Type"] == "AWS::Serverless::Function":
            name = resource["Properties"]["CodeUri"].rstrip("/").rsplit("/", 1)[-1]
            functions[logical] = name
            resource["Properties"]["CodeUri"] = f"s3://placeholder/{name}.zip"
    # The translator resolves pseudo parameters only to validate; the output keeps them.
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    out = transform(template, {}, NoManagedPolicies())
    for logical, name in functions.items():
        out["Resources"][logical]["Properties"]["Code"] = {
            "S3Bucket": {"Fn::Sub": "${CodeBucketPrefix}-${AWS::Region}"},
            "S3Key": {"Fn::Sub": "logmend/${CodeVersion}/" + name + ".zip"},
        }
    out["Parameters"]["CodeBucketPrefix"] = {
        "Type": "String",
        "AllowedPattern": "^[a-z0-9][a-z0-9.-]{1,40}$",
        "Description": "Code buckets are <prefix>-<region>, readable by the organization (see infra/README.md)",
    }
    out["Parameters"]["CodeVersion"] = {
        "Type": "String",
        "AllowedPattern": "^[A-Za-z0-9._-]+$",
        "Description": "Key folder of this release's zips: logmend/<version>/<function>.zip",
    }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=str(ROOT / "infra/build/logmend-stack-instance.json"))
    args = parser.parse_args()
    out = pathlib.Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(render(), indent=1) + "\n")
    print(out)


if __name__ == "__main__":
    main()

// The Logmend construct: logmend's functions, EventBridge rules, queues, alarms, dashboard and
// least-privilege roles in a CDK app, from the one generated template (infra/template.yaml,
// `logmend template`) that SAM deploys: nothing here lists a function, a rule or an action,
// so the two ways to deploy cannot drift. Typed props set the template's parameter defaults,
// checked here against the template's own AllowedValues and AllowedPattern before synth.
import * as path from 'path';
import * as fs from 'fs';
import { Construct } from 'constructs';
import { CfnParameter, CfnResource, Stack } from 'aws-cdk-lib';
import * as cfninc from 'aws-cdk-lib/cloudformation-include';
import * as s3assets from 'aws-cdk-lib/aws-s3-assets';
import * as YAML from 'yaml';

/** Where the functions' code comes from. */
export abstract class LogmendCode {
  /** `make build`'s output: one folder per function holding `bootstrap` (uploaded as CDK assets). */
  static fromDirectory(dir: string): LogmendCode {
    return new DirectoryCode(dir);
  }
  /** Zips already in a bucket, `PREFIX/FUNCTION.zip` (as infra/code-bucket.yaml's StackSets use). */
  static fromBucket(bucket: string, prefix = ''): LogmendCode {
    return new BucketCode(bucket, prefix);
  }
  abstract codeUri(scope: Construct, fn: string): { Bucket: string; Key: string };
}

class DirectoryCode extends LogmendCode {
  constructor(private readonly dir: string) {
    super();
  }
  codeUri(scope: Construct, fn: string) {
    const asset = new s3assets.Asset(scope, `${fn}-code`, { path: path.join(this.dir, fn) });
    return { Bucket: asset.s3BucketName, Key: asset.s3ObjectKey };
  }
}

class BucketCode extends LogmendCode {
  constructor(private readonly bucket: string, private readonly prefix: string) {
    super();
  }
  codeUri(_scope: Construct, fn: string) {
    const key = this.prefix ? `${this.prefix.replace(/\/$/, '')}/${fn}.zip` : `${fn}.zip`;
    return { Bucket: this.bucket, Key: key };
  }
}

/** The template's parameters, by their CloudFormation names, for the ones without a prop. */
export type TemplateParameters = Record<string, string | number>;

export interface LogmendProps {
  /** `audit` (report only; the roles hold read actions only) or `remediate`. Default: audit. */
  readonly mode?: 'audit' | 'remediate';
  /** Control ids (`logmend controls`), or undefined for all. */
  readonly controls?: string[];
  /** Minimum log group retention, days (a value CloudWatch Logs accepts). Default: 365. */
  readonly retentionDays?: number;
  /** The SNS topic logmend's own alarms (failed decisions, errors, the DLQ) notify. */
  readonly alarmTopicArn?: string;
  /** Send every decision to Security Hub as an ASFF finding. Default: false. */
  readonly securityHub?: boolean;
  /** An SNS topic told of every fixed and failed decision. */
  readonly notifyTopicArn?: string;
  /** Tag key whose value `true` exempts a resource. Default: logmend:exempt. */
  readonly exemptTag?: string;
  /** Any other parameter of the template, by name (`SweepSchedule`, `TrailKmsKey`, …). */
  readonly parameters?: TemplateParameters;
  /** The functions' code. Default: `target/lambda` of the repository (`make build`). */
  readonly code?: LogmendCode;
  /** The template to include. Default: the repository's infra/template.yaml. */
  readonly templateFile?: string;
}

interface TemplateParameter {
  Type: string;
  Default?: string | number;
  AllowedValues?: (string | number)[];
  AllowedPattern?: string;
}

export const DEFAULT_TEMPLATE = path.join(__dirname, '..', '..', '..', 'template.yaml');

export class Logmend extends Construct {
  /** The included template: every resource by its logical id (`getResource`). */
  readonly template: cfninc.CfnInclude;
  /** The functions' folder names (`log-retention`, …), as the template's CodeUri names them. */
  readonly functionNames: string[];

  constructor(scope: Construct, id: string, props: LogmendProps = {}) {
    super(scope, id);
    const templateFile = props.templateFile ?? DEFAULT_TEMPLATE;
    const { Parameters: declared = {}, Resources: resources = {} } = readTemplate(templateFile) as {
      Parameters?: Record<string, TemplateParameter>;
      Resources?: Record<string, { Type: string; Properties: any }>;
    };
    const values: TemplateParameters = { ...props.parameters };
    const set = (name: string, value: string | number | undefined) => {
      if (value !== undefined) values[name] = value;
    };
    set('Mode', props.mode);
    set('Controls', props.controls && props.controls.join(','));
    set('RetentionDays', props.retentionDays);
    set('AlarmTopicArn', props.alarmTopicArn);
    set('SecurityHub', props.securityHub === undefined ? undefined : props.securityHub ? 'on' : 'off');
    set('NotifyTopicArn', props.notifyTopicArn);
    set('ExemptTag', props.exemptTag);
    for (const [name, value] of Object.entries(values)) {
      checkParameter(name, value, declared[name]);
    }
    // Resources naming what only SAM's transform makes (a function's rule, `<Function><Event>`)
    // are passed through as written; CloudFormation resolves them after the transform.
    const dehydrated = Object.keys(resources).filter((id) => namesSamGenerated(resources[id], resources));
    this.template = new cfninc.CfnInclude(this, 'Template', {
      templateFile,
      preserveLogicalIds: true,
      dehydratedResources: dehydrated,
    });
    // Props become the defaults of the template's own parameters: the synthesized template is
    // the SAM template with other defaults, and `cdk deploy --parameters` can still set any.
    for (const [name, value] of Object.entries(values)) {
      this.template.getParameter(name).default = value;
    }
    for (const id of dehydrated) {
      // preserveLogicalIds does not reach dehydrated resources.
      (this.template.getResource(id) as CfnResource).overrideLogicalId(id);
    }
    const code = props.code ?? LogmendCode.fromDirectory(path.join(__dirname, '..', '..', '..', '..', 'target', 'lambda'));
    this.functionNames = [];
    for (const [logicalId, resource] of Object.entries(resources)) {
      if (resource.Type !== 'AWS::Serverless::Function') continue;
      const uri = String(resource.Properties.CodeUri ?? '');
      const fn = path.basename(uri.replace(/\/$/, ''));
      this.functionNames.push(fn);
      const cfn = this.template.getResource(logicalId) as CfnResource;
      cfn.addPropertyOverride('CodeUri', code.codeUri(this, fn));
    }
  }

  /** One of the template's parameters (its default is the prop's value, where a prop set it). */
  parameter(name: string): CfnParameter {
    return this.template.getParameter(name);
  }
}

function readTemplate(file: string): any {
  // The generated template is YAML in long form (no !Ref tags), so a plain YAML reader reads it.
  const text = fs.readFileSync(file, 'utf8');
  return file.endsWith('.json') ? JSON.parse(text) : YAML.parse(text);
}

/** Whether a resource refers (Ref, Fn::GetAtt) to a logical id the template does not hold. */
function namesSamGenerated(resource: unknown, resources: Record<string, unknown>): boolean {
  const missing = (id: string) => !(id in resources) && !id.startsWith('AWS::');
  const walk = (v: any): boolean => {
    if (Array.isArray(v)) return v.some(walk);
    if (v && typeof v === 'object') {
      if (typeof v['Fn::GetAtt']?.[0] === 'string' && missing(v['Fn::GetAtt'][0])) return true;
      return Object.values(v).some(walk);
    }
    return false;
  };
  return walk(resource);
}


/** The template's own rules for a parameter, so a bad prop fails at synth, naming itself. */
export function checkParameter(name: string, value: string | number, p: TemplateParameter | undefined): void {
  if (!p) {
    throw new Error(`logmend: ${name} is not a parameter of the template`);
  }
  const text = String(value);
  if (p.AllowedValues && !p.AllowedValues.map(String).includes(text)) {
    throw new Error(`logmend: ${name}=${text} is not one of ${p.AllowedValues.join(', ')}`);
  }
  if (p.AllowedPattern && !new RegExp(p.AllowedPattern).test(text)) {
    throw new Error(`logmend: ${name}=${text} does not match ${p.AllowedPattern}`);
  }
  if (p.Type === 'Number' && Number.isNaN(Number(text))) {
    throw new Error(`logmend: ${name}=${text} is not a number`);
  }
}

export { Stack };

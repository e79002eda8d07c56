// An example app: `npx cdk synth` (offline) or `npx cdk deploy` after `make build`.
// LOGMEND_CODE_BUCKET=bucket[/prefix] uses zips already in a bucket instead of local assets.
import { App, Stack } from 'aws-cdk-lib';
import { Logmend, LogmendCode } from '../lib/logmend';

const app = new App();
const stack = new Stack(app, 'LogmendExample', {
  description: 'logmend in a CDK app (infra/cdk/bin/example.ts)',
});
const bucket = process.env.LOGMEND_CODE_BUCKET;
new Logmend(stack, 'Logmend', {
  mode: 'remediate',
  retentionDays: 400,
  securityHub: true,
  code: bucket ? LogmendCode.fromBucket(bucket.split('/')[0], bucket.split('/').slice(1).join('/')) : undefined,
});
app.synth();

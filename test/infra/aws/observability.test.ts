/**
 * Observability in the synthesized stack: the dashboard shows the functions' own metrics (the
 * names and namespace the functions emit: functions/core/stages.ts) beside Step Functions' and
 * Lambda's; the alarms notify an SNS topic with an e-mail subscription only when `alarmEmail` is
 * set; functions and state machine trace to X-Ray, with the IAM that needs; cdk-nag stays clean.
 */
import { FUNCTION_NAMES, LOG_SERVICE_NAME } from '#functions/core/facts.js';
import {
  COLD_START_METRIC,
  COUNT_METRICS,
  metricsNamespace,
  stageMetric,
  TIMED_STAGES,
} from '#functions/core/stages.js';
import { logicalId, resources, statementsOfRole, synthesize, type Synthesized } from './support.js';

const PREFIX = 'obs-facerec';
const EMAIL = 'ops@example.com';
let plain: Synthesized;
let mailed: Synthesized;
beforeAll(() => {
  plain = synthesize({ prefix: PREFIX });
  mailed = synthesize({ prefix: PREFIX, alarmEmail: EMAIL, profile: 'cse546-p1' });
}, 600_000);
afterAll(() => {
  plain?.cleanup();
  mailed?.cleanup();
});

/** The dashboard body with its tokens resolved to their logical ids (a readable string). */
function dashboardBody(s: Synthesized): string {
  const dashboards = Object.values(resources(s.template, 'AWS::CloudWatch::Dashboard'));
  expect(dashboards).toHaveLength(1);
  const body = dashboards[0].Properties!.DashboardBody as { 'Fn::Join': [string, unknown[]] };
  return body['Fn::Join'][1].map((part) => (typeof part === 'string' ? part : JSON.stringify(part))).join('');
}

test('the dashboard graphs every pipeline metric in the namespace the functions write to', () => {
  const body = dashboardBody(plain);
  const namespace = metricsNamespace(PREFIX);
  for (const name of [...Object.values(COUNT_METRICS), ...TIMED_STAGES.map(stageMetric)]) {
    expect(body).toContain(`["${namespace}","${name}","service","${LOG_SERVICE_NAME}"`);
  }
  // Powertools' cold-start metric carries the function's name.
  for (const fn of FUNCTION_NAMES) {
    const ref = JSON.stringify({ Ref: logicalId(plain.stack, plain.stack.functions[fn].function) });
    expect(body).toContain(
      `["${namespace}","${COLD_START_METRIC}","function_name","${ref}","service","${LOG_SERVICE_NAME}"`,
    );
  }
  // ... and the functions are told that namespace.
  for (const fn of FUNCTION_NAMES) {
    const props = resources(plain.template, 'AWS::Lambda::Function')[
      logicalId(plain.stack, plain.stack.functions[fn].function)
    ].Properties as { Environment: { Variables: Record<string, unknown> }; TracingConfig: unknown };
    expect(props.Environment.Variables.POWERTOOLS_METRICS_NAMESPACE).toBe(namespace);
    expect(props.TracingConfig).toEqual({ Mode: 'Active' });
  }
});

test('the dashboard shows Step Functions and Lambda metrics and the alarms', () => {
  const body = dashboardBody(plain);
  for (const m of [
    'ExecutionsStarted',
    'ExecutionsSucceeded',
    'ExecutionsFailed',
    'ExecutionsTimedOut',
    'ExecutionTime',
  ])
    expect(body).toContain(`["AWS/States","${m}","StateMachineArn"`);
  for (const m of ['Invocations', 'Errors', 'Throttles', 'Duration', 'ConcurrentExecutions']) {
    for (const fn of FUNCTION_NAMES) {
      const ref = JSON.stringify({ Ref: logicalId(plain.stack, plain.stack.functions[fn].function) });
      expect(body).toContain(`["AWS/Lambda","${m}","FunctionName","${ref}"`);
    }
  }
  for (const alarm of plain.stack.alarms) expect(body).toContain(logicalId(plain.stack, alarm));
  const outputs = plain.template.toJSON().Outputs as Record<string, unknown>;
  expect(outputs.DashboardUrl).toBeDefined();
});

test('no alarm topic without alarmEmail; with it a topic, its e-mail subscription and every alarm notifying it', () => {
  expect(Object.keys(resources(plain.template, 'AWS::SNS::Topic'))).toHaveLength(0);
  expect(Object.keys(resources(plain.template, 'AWS::SNS::Subscription'))).toHaveLength(0);
  for (const a of Object.values(resources(plain.template, 'AWS::CloudWatch::Alarm')))
    expect(a.Properties!.AlarmActions).toBeUndefined();

  const topics = Object.keys(resources(mailed.template, 'AWS::SNS::Topic'));
  expect(topics).toHaveLength(1);
  expect(
    Object.values(resources(mailed.template, 'AWS::SNS::Subscription')).map((r) => r.Properties),
  ).toEqual([{ Protocol: 'email', Endpoint: EMAIL, TopicArn: { Ref: topics[0] } }]);
  const alarms = Object.values(resources(mailed.template, 'AWS::CloudWatch::Alarm'));
  expect(alarms.length).toBeGreaterThanOrEqual(4);
  for (const a of alarms) expect(a.Properties!.AlarmActions).toEqual([{ Ref: topics[0] }]);
  // Only TLS publishers (AwsSolutions-SNS3).
  expect(JSON.stringify(resources(mailed.template, 'AWS::SNS::TopicPolicy'))).toContain(
    'aws:SecureTransport',
  );
});

test('X-Ray: the state machine traces, every role may write traces, cdk-nag clean with and without the topic', () => {
  for (const s of [plain, mailed]) {
    const sm = resources(s.template, 'AWS::StepFunctions::StateMachine')[
      logicalId(s.stack, s.stack.stateMachine)
    ];
    expect(sm.Properties!.TracingConfiguration).toEqual({ Enabled: true });
    const roles = [...FUNCTION_NAMES.map((fn) => s.stack.functions[fn].role), s.stack.stateMachine.role];
    for (const role of roles) {
      const xray = statementsOfRole(s.template, logicalId(s.stack, role)).filter((st) =>
        st.actions.some((a) => a.startsWith('xray:')),
      );
      expect(xray.flatMap((st) => st.actions)).toEqual(
        expect.arrayContaining(['xray:PutTraceSegments', 'xray:PutTelemetryRecords']),
      );
    }
    expect(s.nagViolations).toEqual([]);
  }
});

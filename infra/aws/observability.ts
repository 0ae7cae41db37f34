/**
 * What an operator watches: a CloudWatch dashboard with the pipeline's own metrics (what the
 * functions emit with Powertools Metrics: functions/aws/observability.ts, names in
 * functions/core/stages.ts) beside the Step Functions and Lambda metrics, and where the alarms go
 * (an SNS topic the stack creates for `-c alarmEmail=...`, and/or an existing `-c alarmTopicArn`).
 */
import { Aws, CfnOutput, Duration, Fn, Stack, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import { FUNCTION_NAMES, LOG_SERVICE_NAME, type FunctionName } from '../../functions/core/facts.js';
import { COLD_START_METRIC, COUNT_METRICS, stageMetric, TIMED_STAGES } from '../../functions/core/stages.js';
import type { PipelineFunction } from './pipeline-function.js';

const PERIOD = Duration.minutes(5);

/** The alarms' destinations: a topic made for the e-mail setting, an existing topic, both or none. */
export function alarmTopics(
  scope: Construct,
  settings: { alarmEmail?: string; alarmTopicArn?: string },
): sns.ITopic[] {
  const topics: sns.ITopic[] = [];
  if (settings.alarmEmail) {
    const topic = new sns.Topic(scope, 'AlarmEmailTopic', {
      displayName: 'facerec alarms',
      enforceSSL: true,
    });
    topic.addSubscription(new subscriptions.EmailSubscription(settings.alarmEmail));
    // cdk-nag's finding, acknowledged on this topic only (as infra/aws/nag.ts does the others).
    Validations.of(topic).acknowledge({
      id: 'AwsSolutions::SNS2',
      reason:
        'Alarm notifications carry no pipeline data (alarm name, state, reason). CloudWatch cannot publish to a topic ' +
        'encrypted with the AWS-managed SNS key, and a customer-managed KMS key would cost more than the topic.',
    });
    topics.push(topic);
  }
  if (settings.alarmTopicArn)
    topics.push(sns.Topic.fromTopicArn(scope, 'AlarmTopic', settings.alarmTopicArn));
  return topics;
}

export function notifyTopics(alarms: cloudwatch.Alarm[], topics: sns.ITopic[]): void {
  for (const a of alarms) for (const t of topics) a.addAlarmAction(new cwActions.SnsAction(t));
}

export interface DashboardParts {
  /** The functions' metrics namespace (functions/core/stages.ts metricsNamespace). */
  namespace: string;
  functions: Record<FunctionName, PipelineFunction>;
  stateMachine: sfn.StateMachine;
  alarms: cloudwatch.Alarm[];
}

/** The pipeline's dashboard: videos and faces, stage durations, cold starts, executions, functions. */
export function pipelineDashboard(scope: Construct, parts: DashboardParts): cloudwatch.Dashboard {
  const { namespace, functions, stateMachine } = parts;
  const own = (metricName: string, statistic: string, label?: string, dims: Record<string, string> = {}) =>
    new cloudwatch.Metric({
      namespace,
      metricName,
      statistic,
      period: PERIOD,
      label,
      dimensionsMap: { service: LOG_SERVICE_NAME, ...dims },
    });
  const graph = (title: string, left: cloudwatch.IMetric[], width = 8) =>
    new cloudwatch.GraphWidget({ title, left, width, height: 6 });
  const fns = FUNCTION_NAMES.map((n) => [n, functions[n].function] as const);
  const perFunction = (title: string, metric: (f: (typeof fns)[number][1]) => cloudwatch.IMetric) =>
    graph(
      title,
      fns.map(([n, f]) => (metric(f) as cloudwatch.Metric).with({ label: n, period: PERIOD })),
      6,
    );

  const dashboard = new cloudwatch.Dashboard(scope, 'Dashboard', {
    dashboardName: Fn.join('-', [Stack.of(scope).stackName, 'pipeline']),
    defaultInterval: Duration.hours(3),
  });
  dashboard.addWidgets(
    new cloudwatch.TextWidget({
      markdown:
        '# facerec pipeline\nVideos, frames and faces from the functions (Powertools Metrics, namespace ' +
        `\`${namespace}\`), then Step Functions and Lambda. Traces: X-Ray (CloudWatch > Application Signals > Traces).`,
      width: 24,
      height: 2,
    }),
  );
  dashboard.addWidgets(
    graph('Videos', [
      own(COUNT_METRICS.videos, 'Sum', 'answered'),
      own(COUNT_METRICS.videosFailed, 'Sum', 'failed'),
    ]),
    graph('Frames and faces', [
      own(COUNT_METRICS.frames, 'Sum', 'frames'),
      own(COUNT_METRICS.faces, 'Sum', 'faces'),
      own(COUNT_METRICS.unknownFaces, 'Sum', 'Unknown faces'),
    ]),
    graph(
      'Cold starts',
      fns.map(([n, f]) => own(COLD_START_METRIC, 'Sum', n, { function_name: f.functionName })),
    ),
  );
  dashboard.addWidgets(
    graph(
      'Stage duration, average (ms)',
      TIMED_STAGES.map((s) => own(stageMetric(s), 'Average', s)),
      12,
    ),
    graph(
      'Stage duration, p95 (ms)',
      TIMED_STAGES.map((s) => own(stageMetric(s), 'p95', s)),
      12,
    ),
  );
  dashboard.addWidgets(
    graph(
      'Executions',
      [
        stateMachine.metricStarted({ period: PERIOD, label: 'started' }),
        stateMachine.metricSucceeded({ period: PERIOD, label: 'succeeded' }),
        stateMachine.metricFailed({ period: PERIOD, label: 'failed' }),
        stateMachine.metricTimedOut({ period: PERIOD, label: 'timed out' }),
      ],
      12,
    ),
    graph(
      'Execution duration (ms)',
      [
        stateMachine.metricTime({ period: PERIOD, statistic: 'Average', label: 'average' }),
        stateMachine.metricTime({ period: PERIOD, statistic: 'p95', label: 'p95' }),
      ],
      12,
    ),
  );
  dashboard.addWidgets(
    perFunction('Invocations', (f) => f.metricInvocations({ statistic: 'Sum' })),
    perFunction('Errors', (f) => f.metricErrors({ statistic: 'Sum' })),
    perFunction('Throttles', (f) => f.metricThrottles({ statistic: 'Sum' })),
    perFunction('Duration p95 (ms)', (f) => f.metricDuration({ statistic: 'p95' })),
  );
  dashboard.addWidgets(
    perFunction('Concurrent executions', (f) => f.metric('ConcurrentExecutions', { statistic: 'Maximum' })),
    new cloudwatch.AlarmStatusWidget({ title: 'Alarms', alarms: parts.alarms, width: 18, height: 6 }),
  );
  new CfnOutput(scope, 'DashboardUrl', {
    description: 'The pipeline dashboard in the CloudWatch console',
    value: `https://${Aws.REGION}.console.aws.amazon.com/cloudwatch/home?region=${Aws.REGION}#dashboards/dashboard/${dashboard.dashboardName}`,
  });
  return dashboard;
}

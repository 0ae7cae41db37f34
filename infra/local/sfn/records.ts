/**
 * What the local Step Functions service keeps of an execution, in the shapes the API reports
 * (and the journal stores).
 */

export type ExecutionStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED';

/** A history event before it gets its id (ids follow the time order). */
export interface RecordedEvent {
  timestamp: number;
  type: string;
  [details: string]: unknown;
}

export interface HistoryEvent extends RecordedEvent {
  id: number;
  previousEventId: number;
}

export interface ExecutionRecord {
  executionArn: string;
  stateMachineArn: string;
  name: string;
  status: ExecutionStatus;
  startDate: number;
  stopDate?: number;
  input: string;
  output?: string;
  error?: string;
  cause?: string;
  /** Times the execution was re-run after a restart of the service (AWS: a redrive). */
  redriveCount?: number;
  redriveDate?: number;
  events: RecordedEvent[];
}

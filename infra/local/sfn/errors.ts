/** An error the local Step Functions API reports (`__type` in the JSON protocol), with its HTTP status. */
export class SfnApiError extends Error {
  constructor(
    readonly type: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
    this.name = type;
  }
}

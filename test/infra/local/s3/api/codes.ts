/** The S3 error code a call throws (or 'none'): what the server would answer with. */
export function codeOf(call: () => unknown): string {
  try {
    call();
  } catch (err) {
    return (err as { code?: string }).code ?? `not an S3Error: ${String(err)}`;
  }
  return 'none';
}

/** The AWS SDK warns that its future releases need Node 22: not news for a user of this CLI. */
const emitWarning = process.emitWarning.bind(process) as (...args: unknown[]) => void;
process.emitWarning = ((warning: unknown, ...rest: unknown[]) => {
  const text = typeof warning === 'string' ? warning : (warning as Error)?.message;
  const type = typeof rest[0] === 'string' ? rest[0] : (rest[0] as { type?: string } | undefined)?.type;
  if (type === 'NodeVersionSupportWarning' || /require node >=22/.test(text ?? '')) return;
  emitWarning(warning, ...rest);
}) as typeof process.emitWarning;

export {};

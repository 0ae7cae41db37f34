/** The few command-line options of the benchmark scripts that take no commander program. */
const args = process.argv.slice(2);

/** Whether `name` (e.g. `--no-write`) was given. */
export const flag = (name: string): boolean => args.includes(name);

/** The value after `name` (e.g. `--videos 20`), or `fallback`. */
export function option(name: string, fallback: string): string {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : fallback;
}

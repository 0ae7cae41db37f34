/** The environment of an in-process local stack in a test: its own data folder, any free ports, no logs. */
export function quietLocalStackEnv(dir: string): Record<string, string> {
  return {
    FACEREC_LOCAL_DIR: dir,
    FACEREC_LOCAL_S3_PORT: '0',
    FACEREC_LOCAL_SFN_PORT: '0',
    FACEREC_LOG_LEVEL: 'SILENT',
  };
}

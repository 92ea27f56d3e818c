/**
 * What the global setup started, handed to test files through the environment
 * (jest's workers inherit it from the process that ran the setup).
 */
export const testEnvKeys = {
  workflowBundle: 'EVENTBOOK_TEST_WORKFLOW_BUNDLE',
  /** Base URL of the mail sink's REST API. */
  mailApi: 'EVENTBOOK_TEST_MAIL_API',
  /** Base URL of the Temporal dev server's Web UI. */
  temporalUi: 'EVENTBOOK_TEST_TEMPORAL_UI',
} as const;

export function requireEnv(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run tests through jest (npm test) so the global setup runs`);
  return value;
}

import type { ActivityInterceptorsFactory } from '@temporalio/worker';

/**
 * Adds the signup and event an activity works on to every log line about it. The SDK already puts
 * workflowId, workflowType, activityType, activityId and attempt on the activity's log lines
 * (which src/temporal/runtime.ts routes to pino); this adds `signupId` and `eventId` when the
 * activity's input (its first argument) has them. One interceptor pair per execution, so the ids
 * never leak from one activity into another.
 */
export const activityLogContext: ActivityInterceptorsFactory = () => {
  let ids: { signupId?: string; eventId?: string } = {};
  return {
    inbound: {
      execute(input, next) {
        ids = idsOf(input.args[0]);
        return next(input);
      },
    },
    outbound: {
      getLogAttributes(attributes, next) {
        return next({ ...attributes, ...ids });
      },
    },
  };
};

function idsOf(input: unknown): { signupId?: string; eventId?: string } {
  if (typeof input !== 'object' || input === null) return {};
  const { signupId, eventId } = input as Record<string, unknown>;
  return {
    ...(typeof signupId === 'string' ? { signupId } : {}),
    ...(typeof eventId === 'string' ? { eventId } : {}),
  };
}

import { defineEntity, p } from '@mikro-orm/core';
import type { EventLifecycleInput } from '../temporal/contract.js';

export const lifecycleCommandKinds = ['start', 'changed', 'withdrawn', 'cancelled'] as const;
export type LifecycleCommandKind = (typeof lifecycleCommandKinds)[number];

/**
 * The outbox of event lifecycle workflows: what an admin change means for the event's workflow
 * (`event-<id>`: start it, it moved, it was withdrawn, it was cancelled), written in the
 * transaction of the change and deleted once Temporal has it (src/events/lifecycle-client.ts). Rows
 * of one event are delivered oldest first. No foreign key to the event on purpose: a withdrawn
 * draft may be deleted while its withdrawal is still on its way to a running workflow.
 */
export const LifecycleCommandSchema = defineEntity({
  name: 'LifecycleCommand',
  tableName: 'event_lifecycle_command',
  indexes: [
    { name: 'event_lifecycle_command_due_idx', properties: ['nextAttemptAt'] },
    { name: 'event_lifecycle_command_event_idx', properties: ['eventId', 'id'] },
  ],
  properties: {
    id: p.bigint('number').primary().autoincrement(),
    eventId: p.uuid(),
    kind: p.enum(lifecycleCommandKinds),
    /** The start values, stored so any API process starts it on the queue and with the settings of the writer. */
    taskQueue: p.string().length(200),
    input: p.json<EventLifecycleInput>(),
    market: p.string().length(8),
    /** The Temporal memo's one-line summary. */
    summary: p.text(),
    /** `changed`: the event version; `cancelled`: the reason. */
    version: p.integer().nullable(),
    reason: p.text().nullable(),
    attempts: p.integer().default(0),
    /** When a sweep may take the row: shortly after the commit (the writer's own attempt comes first), then backing off. */
    nextAttemptAt: p.datetime(),
    lastError: p.text().nullable(),
    createdAt: p.datetime().onCreate(() => new Date()),
  },
});

export class LifecycleCommand extends LifecycleCommandSchema.class {}
LifecycleCommandSchema.setClass(LifecycleCommand);

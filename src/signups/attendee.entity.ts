import { defineEntity, p } from '@mikro-orm/core';
import { Signup } from './signup.entity.js';

export const attendeeKinds = ['child', 'adult'] as const;

/**
 * A person a signup brings. Deliberately minimal (first name, age at signup, needs note): admins see
 * first names and age groups, never contact data, and the lifecycle purges these rows after the event.
 */
export const AttendeeSchema = defineEntity({
  name: 'Attendee',
  tableName: 'signup_attendee',
  properties: {
    id: p.uuid().primary(),
    signup: () => p.manyToOne(Signup).deleteRule('cascade'),
    firstName: p.string().length(100),
    age: p.integer(),
    kind: p.enum(attendeeKinds),
    needsNote: p.string().length(1000).nullable(),
    /** Unguessable, issued on confirmation. */
    ticketCode: p.string().length(32).unique().nullable(),
  },
});

export class Attendee extends AttendeeSchema.class {}
AttendeeSchema.setClass(Attendee);

import { defineEntity, p } from '@mikro-orm/core';

/**
 * What a user follows: one event (a mail when its signups open), a category, a market or a tag
 * (announcements of new events there). Following is the user's opt-in to hear about it, so
 * announcement mail goes to followers rather than to everyone with marketing consent.
 */
export const interestKinds = ['event', 'category', 'market', 'tag'] as const;
export type InterestKind = (typeof interestKinds)[number];

export const InterestSchema = defineEntity({
  name: 'Interest',
  tableName: 'interest',
  // (user, kind, value) makes following idempotent under concurrent requests; (kind, value) is
  // how the audience queries find the followers of one event, category or market.
  uniques: [{ properties: ['userId', 'kind', 'value'] }],
  indexes: [{ properties: ['kind', 'value', 'userId'] }],
  properties: {
    id: p.uuid().primary(),
    /** The identity provider's subject, like Signup.userId. */
    userId: p.string().length(200),
    kind: p.enum(interestKinds),
    /** An event id, a category slug, a market code or a tag, by kind. */
    value: p.string().length(64),
    createdAt: p.datetime().onCreate(() => new Date()),
  },
});

export class Interest extends InterestSchema.class {}
InterestSchema.setClass(Interest);

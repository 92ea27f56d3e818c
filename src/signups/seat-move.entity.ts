import { defineEntity, p } from '@mikro-orm/core';
import { Signup } from './signup.entity.js';

/**
 * What a seat move answered, written in the move's own transaction (src/signups/seats.ts): a
 * retried attempt of the same move (same key) finds it and answers the same, so the workflow's
 * follow-ups (telling offered signups, cancelling an intent, refunding) happen once however many
 * attempts committed or timed out. Deleted with its signup, or with the event's other records once
 * its signup workflows are over (`forgetSeatMoves` in ./seats.ts).
 */
export const SeatMoveRecordSchema = defineEntity({
  name: 'SeatMoveRecord',
  tableName: 'seat_move',
  properties: {
    /** The move's key: the activity's workflow id, run id and activity id (the same for every attempt). */
    moveId: p.string().length(300).primary(),
    signup: () => p.manyToOne(Signup).deleteRule('cascade').index(),
    /** Which move: holdSeats, cancelSignup, ... (for people reading the table). */
    move: p.string().length(40),
    /** The SeatMove answered (status, the status moved from, offers made). */
    outcome: p.json<Record<string, unknown>>(),
    createdAt: p.datetime().onCreate(() => new Date()),
  },
});

export class SeatMoveRecord extends SeatMoveRecordSchema.class {}
SeatMoveRecordSchema.setClass(SeatMoveRecord);

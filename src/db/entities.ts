import { ConsentRecordSchema } from '../consents/consent-record.entity.js';
import { ErasureRequestSchema } from '../privacy/erasure.entity.js';
import { UserContactSchema } from '../contacts/contact.entity.js';
import { EventChangeSchema } from '../events/event-change.entity.js';
import { EventSearchSchema } from '../events/event-search.entity.js';
import { EventTranslationSchema } from '../events/event-translation.entity.js';
import { LifecycleCommandSchema } from '../events/lifecycle-command.entity.js';
import { LiveEventSchema } from '../events/event.entity.js';
import { NeedsNoteReadSchema } from '../events/needs-note-read.entity.js';
import { PromoCodeSchema } from '../events/promo-code.entity.js';
import { TicketTypeSchema } from '../events/ticket-type.entity.js';
import { InterestSchema } from '../interests/interest.entity.js';
import { NotificationLogSchema } from '../notifications/notification-log.entity.js';
import { OpsAuditSchema } from '../ops/audit.entity.js';
import { UnhonouredPaymentSchema } from '../payments/unhonoured-payment.entity.js';
import { AttendeeSchema } from '../signups/attendee.entity.js';
import { SeatMoveRecordSchema } from '../signups/seat-move.entity.js';
import { SignupSchema } from '../signups/signup.entity.js';
import { SignupWorkflowStartSchema } from '../signups/workflow-start.entity.js';
import { IntegrationEventSchema, WebhookDeliverySchema, WebhookEndpointSchema } from '../webhooks/webhook.entities.js';
import { RateLimitSchema } from '../limits/rate-limit.entity.js';

/** Every entity the ORM knows; listed explicitly so no folder scanning happens at start. */
export const entities = [
  LiveEventSchema,
  EventTranslationSchema,
  EventSearchSchema,
  TicketTypeSchema,
  PromoCodeSchema,
  EventChangeSchema,
  SignupSchema,
  AttendeeSchema,
  NotificationLogSchema,
  UserContactSchema,
  InterestSchema,
  OpsAuditSchema,
  SignupWorkflowStartSchema,
  SeatMoveRecordSchema,
  LifecycleCommandSchema,
  ConsentRecordSchema,
  UnhonouredPaymentSchema,
  IntegrationEventSchema,
  WebhookEndpointSchema,
  WebhookDeliverySchema,
  ErasureRequestSchema,
  RateLimitSchema,
  NeedsNoteReadSchema,
];

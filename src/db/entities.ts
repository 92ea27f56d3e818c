import { UserContactSchema } from '../contacts/contact.entity.js';
import { EventChangeSchema } from '../events/event-change.entity.js';
import { EventSearchSchema } from '../events/event-search.entity.js';
import { EventTranslationSchema } from '../events/event-translation.entity.js';
import { LiveEventSchema } from '../events/event.entity.js';
import { PromoCodeSchema } from '../events/promo-code.entity.js';
import { TicketTypeSchema } from '../events/ticket-type.entity.js';
import { InterestSchema } from '../interests/interest.entity.js';
import { NotificationLogSchema } from '../notifications/notification-log.entity.js';
import { OpsAuditSchema } from '../ops/audit.entity.js';
import { AttendeeSchema } from '../signups/attendee.entity.js';
import { SignupSchema } from '../signups/signup.entity.js';
import { SignupWorkflowStartSchema } from '../signups/workflow-start.entity.js';
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
  RateLimitSchema,
];

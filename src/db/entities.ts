import { LiveEventSchema } from '../events/event.entity.js';
import { SignupSchema } from '../signups/signup.entity.js';

/** Every entity the ORM knows; listed explicitly so no folder scanning happens at start. */
export const entities = [LiveEventSchema, SignupSchema];

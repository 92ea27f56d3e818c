// The worker bundles this file: export every workflow from here.
export { signupWorkflow } from './signup.js';
export { eventLifecycleWorkflow } from './event-lifecycle.js';
export { eventRetentionWorkflow } from './event-retention.js';
export { notificationRetryWorkflow } from './notification-retry.js';
export { paymentRefundWorkflow } from './payment-refund.js';
export { webhookDeliveryWorkflow } from './webhook-delivery.js';
export { erasureWorkflow } from './erasure.js';
export { doorConfirmationsWorkflow } from './door-confirmations.js';

// The worker bundles this file: export every workflow from here.
export { signupWorkflow } from './signup.js';
export { eventLifecycleWorkflow } from './event-lifecycle.js';
export { erasureWorkflow } from './erasure.js';

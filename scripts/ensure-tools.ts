/**
 * Makes sure the Go-built tools are here (Temporal CLI, stripe-mock), building them once if not.
 * CI runs it before the tests so a missing toolchain fails early and clearly.
 */
import { findOrBuildStripeMock, findOrBuildTemporalCli, toolVersion } from './lib/tools.js';

const temporal = findOrBuildTemporalCli();
const stripeMock = findOrBuildStripeMock();
console.log(`temporal:    ${temporal ? `${temporal} (${toolVersion(temporal)})` : 'not available: the SDK will download a dev server'}`);
console.log(`stripe-mock: ${stripeMock ?? 'not available'}`);

import { requireEnv, testEnvKeys } from './environment.js';

export interface ReceivedMail {
  subject: string;
  text: string;
  html: string;
  to: { address: string }[];
  headers: Record<string, string>;
}

/** Messages the test stack's SMTP sink received for one address (tests use their own addresses). */
export async function mailTo(address: string): Promise<ReceivedMail[]> {
  // Filtered by the sink itself: the whole mailbox (thousands of messages with their HTML) is too
  // much to ship on every poll of every test.
  const response = await fetch(`${requireEnv(testEnvKeys.mailApi)}/email?to.address=${encodeURIComponent(address)}`);
  const all = (await response.json()) as ReceivedMail[];
  return all.filter((mail) => mail.to.some((recipient) => recipient.address.toLowerCase() === address.toLowerCase()));
}

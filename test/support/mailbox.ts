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
  const response = await fetch(`${requireEnv(testEnvKeys.mailApi)}/email`);
  const all = (await response.json()) as ReceivedMail[];
  return all.filter((mail) => mail.to.some((recipient) => recipient.address.toLowerCase() === address.toLowerCase()));
}

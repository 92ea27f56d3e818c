export const roles = ['participant', 'organizer', 'admin', 'ops'] as const;
export type Role = (typeof roles)[number];

/** Who is calling, as the identity provider's token says. */
export interface Principal {
  userId: string;
  roles: Role[];
  /** Markets an organizer may work in (from the token); admins are not restricted. */
  markets: string[];
  /** When the token carries a `categories` claim, an organizer is further limited to those categories. */
  categories?: string[];
  /** Profile claims, when the identity provider sends them (OIDC `email`, `locale`, `birthdate`). */
  profile?: UserProfile;
}

export interface UserProfile {
  email?: string;
  locale?: string;
  /** YYYY-MM-DD: decides whether a guardian must consent to the user's signups. */
  birthDate?: string;
  /** A minor's guardian, where consent requests go (claim `guardian_email`). */
  guardianEmail?: string;
}

export function hasAnyRole(principal: Principal, allowed: readonly Role[]): boolean {
  return principal.roles.some((role) => allowed.includes(role));
}

export const roles = ['participant', 'organizer', 'admin'] as const;
export type Role = (typeof roles)[number];

/** Who is calling, as the identity provider's token says. */
export interface Principal {
  userId: string;
  roles: Role[];
  /** Markets an organizer may work in (from the token); admins are not restricted. */
  markets: string[];
}

export function hasAnyRole(principal: Principal, allowed: readonly Role[]): boolean {
  return principal.roles.some((role) => allowed.includes(role));
}

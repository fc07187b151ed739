/** Role order: each role can do everything the ones before it can (viewer < operator < admin). */
export const ROLE_RANK = { viewer: 0, operator: 1, admin: 2 } as const;
export type RoleName = keyof typeof ROLE_RANK;

export function roleAtLeast(role: RoleName | undefined, min: RoleName): boolean {
  return role !== undefined && ROLE_RANK[role] >= ROLE_RANK[min];
}

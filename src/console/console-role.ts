/** The console's roles, weakest first. */
export type ConsoleRole = 'viewer' | 'operator' | 'admin';
export const CONSOLE_ROLES: readonly ConsoleRole[] = ['viewer', 'operator', 'admin'];

/** What a request needs: reading, an operator action, or an admin action (definitions). */
export type Permission = 'read' | 'operate' | 'administer';

const NEEDS: Record<Permission, ConsoleRole> = { read: 'viewer', operate: 'operator', administer: 'admin' };

/** Whether `role` may do what `permission` names (each role may do what the weaker ones may). */
export function allows(role: ConsoleRole, permission: Permission): boolean {
  return CONSOLE_ROLES.indexOf(role) >= CONSOLE_ROLES.indexOf(NEEDS[permission]);
}

/** The least role `permission` needs (for the 403's message). */
export function roleFor(permission: Permission): ConsoleRole {
  return NEEDS[permission];
}

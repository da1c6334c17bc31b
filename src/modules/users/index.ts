// What other parts of Gazette may use of the users module (docs/ARCHITECTURE.md, "Modules and borders").
export { createNewsroomAuth, csrfField } from './users.auth.ts';
export type { CurrentUser, NewsroomAuth, NewsroomPageRenderer } from './users.auth.ts';
export { userCommand } from './users.cli.ts';
export { userRoutes } from './users.routes.ts';
export { dashboardQuerySchema, passwordFormSchema } from './users.schema.ts';
export { hasRole, ThrottledError, UserService } from './users.service.ts';
export type { Role, UserRow } from './users.table.ts';

import { z } from 'zod';
import { boardIdSchema } from './api.js';
import { colorSchema, nameSchema, plainText } from './primitives.js';

/** Inputs of accounts, sharing and API tokens. */

export const usernameSchema = z
  .string()
  .trim()
  .toLowerCase()
  .min(3, 'username must have at least 3 characters')
  .max(32, 'username must have at most 32 characters')
  .regex(/^[a-z0-9_.-]+$/, 'username may only contain letters, digits, ".", "_" and "-"');

export const passwordSchema = z
  .string()
  .min(8, 'password must have at least 8 characters')
  .max(200, 'password must have at most 200 characters');

export const signUpInput = z.strictObject({
  username: usernameSchema,
  password: passwordSchema,
  name: nameSchema.optional(),
});
export const signInInput = z.strictObject({ username: z.string().trim().toLowerCase().min(1).max(64), password: z.string().min(1).max(200) });
export const changePasswordInput = z
  .strictObject({ currentPassword: z.string().min(1, 'type your current password').max(200), newPassword: passwordSchema })
  .refine((p) => p.currentPassword !== p.newPassword, { message: 'the new password must differ from the current one', path: ['newPassword'] });
export const updateProfileInput = z
  .strictObject({ name: nameSchema.optional(), color: colorSchema.optional() })
  .refine((p) => p.name !== undefined || p.color !== undefined, 'change the name, the colour or both');

export const roleSchema = z.enum(['owner', 'editor', 'viewer']);
export type Role = z.infer<typeof roleSchema>;
/** Roles a share link or a member change may grant (ownership is not transferable here). */
export const grantableRoleSchema = z.enum(['editor', 'viewer']);

/** How much each role may do; a procedure names the least role it needs. */
export const ROLE_RANK: Record<Role, number> = { viewer: 1, editor: 2, owner: 3 };

/** Most hours a share link may stay valid (one year), and most people one link may let in. */
export const MAX_LINK_HOURS = 24 * 365;
export const MAX_LINK_USES = 10_000;

export const createShareLinkInput = z.strictObject({
  boardId: boardIdSchema,
  role: grantableRoleSchema,
  /** The link stops working this many hours after it is made (none: until revoked). */
  expiresInHours: z.number().positive('expiresInHours must be positive').max(MAX_LINK_HOURS, `a link may last at most ${MAX_LINK_HOURS} hours (a year)`).optional(),
  /** The link stops working once this many people have joined through it (none: no limit). */
  maxUses: z.int('maxUses must be a whole number').min(1, 'maxUses must be at least 1').max(MAX_LINK_USES, `maxUses may be at most ${MAX_LINK_USES}`).optional(),
});
export const shareLinkRefInput = z.strictObject({ boardId: boardIdSchema, linkId: z.string().min(1).max(64) });
export const acceptShareLinkInput = z.strictObject({ code: z.string().min(10).max(100).regex(/^[A-Za-z0-9_-]+$/, 'not a share link code') });
export const setMemberRoleInput = z.strictObject({ boardId: boardIdSchema, userId: z.string().min(1).max(64), role: grantableRoleSchema });
export const memberRefInput = z.strictObject({ boardId: boardIdSchema, userId: z.string().min(1).max(64) });
/** Lets a person the owner removed back in, directly, with a role (links alone no longer admit them). */
export const readmitMemberInput = z.strictObject({ boardId: boardIdSchema, userId: z.string().min(1).max(64), role: grantableRoleSchema });

export const createTokenInput = z.strictObject({ name: plainText(z.string().trim().min(1, 'name the token').max(60), true) });
export const tokenRefInput = z.strictObject({ tokenId: z.string().min(1).max(64) });

/** Prefix of every API token, so a leaked one is recognisable. */
export const TOKEN_PREFIX = 'ink_';

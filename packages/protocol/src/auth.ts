import { z } from 'zod';
import { boardIdSchema } from './api.js';
import { colorSchema, nameSchema } from './primitives.js';

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
export const updateProfileInput = z
  .strictObject({ name: nameSchema.optional(), color: colorSchema.optional() })
  .refine((p) => p.name !== undefined || p.color !== undefined, 'change the name, the colour or both');

export const roleSchema = z.enum(['owner', 'editor', 'viewer']);
export type Role = z.infer<typeof roleSchema>;
/** Roles a share link or a member change may grant (ownership is not transferable here). */
export const grantableRoleSchema = z.enum(['editor', 'viewer']);

/** How much each role may do; a procedure names the least role it needs. */
export const ROLE_RANK: Record<Role, number> = { viewer: 1, editor: 2, owner: 3 };

export const createShareLinkInput = z.strictObject({ boardId: boardIdSchema, role: grantableRoleSchema });
export const shareLinkRefInput = z.strictObject({ boardId: boardIdSchema, linkId: z.string().min(1).max(64) });
export const acceptShareLinkInput = z.strictObject({ code: z.string().min(10).max(100).regex(/^[A-Za-z0-9_-]+$/, 'not a share link code') });
export const setMemberRoleInput = z.strictObject({ boardId: boardIdSchema, userId: z.string().min(1).max(64), role: grantableRoleSchema });
export const memberRefInput = z.strictObject({ boardId: boardIdSchema, userId: z.string().min(1).max(64) });

export const createTokenInput = z.strictObject({ name: z.string().trim().min(1, 'name the token').max(60) });
export const tokenRefInput = z.strictObject({ tokenId: z.string().min(1).max(64) });

/** Prefix of every API token, so a leaked one is recognisable. */
export const TOKEN_PREFIX = 'ink_';

/**
 * Variables some messages get only at the moment an e-mail or push is sent, and that are never stored
 * (not in the notification, not in a delivery row, not in a channel message): the password-reset link
 * (README, "Identity: authentication and tenants" → "Password reset": the event names the reset, the
 * mailer fetches the token from `auth.passwordResetLink`), and the invited address of a tenant invitation.
 */
import { appUrl, config } from "../../lib/config";
import type { Ctx } from "../../lib/context";

export type LateResult = { vars: Record<string, unknown>; to?: string } | { skip: string };

type Resolver = (ctx: Ctx<unknown>, vars: Record<string, unknown>) => Promise<LateResult>;

const RESOLVERS: Record<string, Resolver> = {
	async "password-reset"(ctx, vars) {
		if (typeof vars.resetId !== "string") return { skip: "no reset named" };
		const link = (await ctx.call("auth.passwordResetLink", { resetId: vars.resetId })) as { email: string; token: string } | null;
		if (!link) return { skip: "the reset is no longer valid (used, expired, or made under a rotated key)" };
		return { vars: { resetUrl: `${appUrl(config())}/reset-password?token=${encodeURIComponent(link.token)}` }, to: link.email };
	},
	// To the invited address (not an account's), and only while the invitation is open: a revoked, answered or
	// expired one is not mailed (a held or retried delivery asks again).
	async invitation(ctx, vars) {
		if (typeof vars.invitationId !== "string") return { skip: "no invitation named" };
		const open = (await ctx.call("tenants.invitationMail", { invitationId: vars.invitationId })) as { email: string } | null;
		if (!open) return { skip: "the invitation is no longer open (accepted, declined, withdrawn or expired)" };
		return { vars: {}, to: open.email };
	},
};

export function lateVariables(ctx: Ctx<unknown>, template: string, vars: Record<string, unknown>): Promise<LateResult> {
	const resolve = RESOLVERS[template];
	return resolve ? resolve(ctx, vars) : Promise.resolve({ vars: {} });
}

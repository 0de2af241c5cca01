/**
 * The consumers of `notifications.deliver.email` and `notifications.deliver.push`: one attempt at a
 * delivery per message. The row is claimed (compare-and-set to `sending`), the tenant's template rendered
 * with the message's variables and those fetched only now (late-variables.ts), sent through `mailer` or
 * `pushsubscriptions`, and the outcome recorded; a temporary failure is thrown so the channel redelivers
 * it with backoff (README, "Platform: notifications" → "Delivery"). Part of the deliveries service.
 */
import { awaitsService } from "../../lib/channel-retry";
import { config } from "../../lib/config";
import type { Ctx } from "../../lib/context";
import { ProviderRejectedError, ProviderUnavailableError } from "../../lib/errors";
import type { DbSettings, MixinSchema } from "../../lib/schema";
import { renderPart } from "../../lib/templates";
import { asTenantOrNobody, deliveryChannel } from "./common";
import {
	FINAL,
	leaseMs,
	type DeliveriesMethods,
	type DeliveriesVars,
	type DeliveryChannel,
	type DeliveryRow,
	type DeliveryStatus,
	type Outcome,
} from "./delivery-model";
import { lateVariables } from "./late-variables";
import type { EffectiveTemplate } from "./notificationtemplates.service";
import { MAX_PUSH_PAYLOAD, type DeliverResult } from "./pushsubscriptions.service";

const mailDomain = () => /@([^>\s]+)>?\s*$/.exec(config().MAIL_FROM)?.[1] ?? "valence.invalid";

/** What a delivery message carries (only the id is read: the row is the truth). */
type DeliveryMessage = { deliveryId?: unknown };

const consumerOptions = (channel: DeliveryChannel) => ({
	group: "deliveries",
	maxRetries: config().NOTIFY_DELIVERY_RETRIES,
	maxInFlight: channel === "email" ? 10 : 20,
	deadLettering: { enabled: true },
});

interface AttemptMethods extends DeliveriesMethods {
	consume(ctx: Ctx<DeliveryMessage>, channel: DeliveryChannel): Promise<void> | undefined;
}

export const DeliveryAttemptMixin: MixinSchema<DbSettings, AttemptMethods, DeliveriesVars> = {
	channels: {
		[deliveryChannel("email")]: {
			...consumerOptions("email"),
			handler(ctx: Ctx<DeliveryMessage>) {
				return this.consume(ctx, "email");
			},
		},
		[deliveryChannel("push")]: {
			...consumerOptions("push"),
			handler(ctx: Ctx<DeliveryMessage>) {
				return this.consume(ctx, "push");
			},
		},
	},

	methods: {
		consume(ctx: Ctx<DeliveryMessage>, channel: DeliveryChannel) {
			const id = ctx.params?.deliveryId;
			if (typeof id !== "string" || !id) return undefined; // malformed: nothing to deliver, nothing to retry
			return this.run(ctx, id, channel);
		},

		async run(ctx: Ctx<unknown>, id: string, channel: DeliveryChannel) {
			let row: DeliveryRow | null = null;
			for (let i = 0; ; i++) {
				row = (await this.adapter.findById(id)) as DeliveryRow | null;
				if (!row || row.channel !== channel || FINAL.has(row.status)) return;
				if (row.status === "held" && Date.parse(row.dueAt) > Date.now()) return; // the scheduler publishes it when due
				if (row.status === "sending" && Date.now() - Date.parse(row.claimedAt ?? row.updatedAt) < leaseMs())
					throw new ProviderUnavailableError("delivery", "another attempt is in progress"); // come back after it
				const claimedAt = new Date().toISOString();
				if ((await this.setRow(row, { status: "sending", claimedAt })) === 1) {
					row = { ...row, status: "sending", claimedAt };
					break;
				}
				if (i >= 2) throw new ProviderUnavailableError("delivery", "the delivery changed meanwhile");
			}
			const current = (await this.adapter.findById(id)) as DeliveryRow;
			try {
				const tpl = (await ctx.call(
					"notificationtemplates.resolve",
					{ key: row.template, forTenant: row.templateTenantId !== undefined ? row.templateTenantId : row.tenantId },
					asTenantOrNobody(null),
				)) as EffectiveTemplate | null;
				const outcome: Outcome = !tpl
					? { status: "skipped", reason: "the template no longer exists" }
					: channel === "email"
						? await this.sendEmail(ctx, row, tpl)
						: await this.sendPush(ctx, row, tpl);
				await this.setRow(current, {
					status: outcome.status,
					reason: outcome.reason ?? null,
					sentTo: outcome.sentTo ?? row.sentTo,
					sentAt: outcome.status === "sent" ? new Date().toISOString() : null,
					lastError: null,
				});
				this.logger.info("notification delivered", { deliveryId: id, channel, status: outcome.status, reason: outcome.reason });
			} catch (err) {
				const lastError = String((err as Error).message ?? err).slice(0, 500);
				if (awaitsService(err)) {
					// a service on the way (templates, mailer, push) has no node right now: not an attempt at the provider,
					// so it uses none of NOTIFY_DELIVERY_RETRIES; the channel redelivers once the service is back
					await this.setRow(current, { status: "queued", lastError });
					this.logger.warn("notification delivery waits for a service", { deliveryId: id, channel, error: lastError });
					throw err;
				}
				const attempts = (row.attempts ?? 0) + 1;
				const sentTo = (err as { sentTo?: string[] }).sentTo ?? row.sentTo;
				const retryable = !!(err as { retryable?: boolean }).retryable;
				const status: DeliveryStatus = retryable && attempts < config().NOTIFY_DELIVERY_RETRIES ? "queued" : "failed";
				await this.setRow(current, { status, attempts, lastError, sentTo, reason: retryable ? null : "refused" });
				if (retryable) {
					this.logger.warn("notification delivery failed, will retry", { deliveryId: id, channel, attempts, error: lastError });
					throw err;
				}
				this.logger.warn("notification delivery refused for good", { deliveryId: id, channel, error: lastError });
			}
		},

		async sendEmail(ctx: Ctx<unknown>, row: DeliveryRow, tpl: EffectiveTemplate) {
			const part = tpl.parts.email as Record<string, string> | undefined;
			if (!part || !tpl.channels.includes("email")) return { status: "skipped", reason: "the template has no e-mail part" };
			const mode = ((await ctx.call("mailer.mode")) as { mode: string }).mode;
			if (mode === "off") return { status: "skipped", reason: "e-mail is off (no SMTP_URL)" };
			const late = await lateVariables(ctx, row.template, row.vars);
			if ("skip" in late) return { status: "skipped", reason: late.skip };
			const to = late.to ?? ((await ctx.call("auth.emailOf", { userId: row.userId })) as { email: string | null }).email;
			if (!to) return { status: "skipped", reason: "no e-mail address" };
			let rendered;
			try {
				rendered = renderPart("email", part, { ...row.vars, ...late.vars });
			} catch (err) {
				throw new ProviderRejectedError("template", (err as Error).message);
			}
			await ctx.call("mailer.send", {
				to,
				subject: rendered.subject,
				html: rendered.html,
				text: rendered.text,
				messageId: `<${row._id}@${mailDomain()}>`,
			});
			return { status: "sent" };
		},

		async sendPush(ctx: Ctx<unknown>, row: DeliveryRow, tpl: EffectiveTemplate) {
			const part = tpl.parts.push as Record<string, string> | undefined;
			if (!part || !tpl.channels.includes("push")) return { status: "skipped", reason: "the template has no push part" };
			const late = await lateVariables(ctx, row.template, row.vars);
			if ("skip" in late) return { status: "skipped", reason: late.skip };
			let rendered;
			try {
				rendered = renderPart("push", part, { ...row.vars, ...late.vars });
			} catch (err) {
				throw new ProviderRejectedError("template", (err as Error).message);
			}
			const message = {
				id: row.notificationId,
				category: row.category,
				tenantId: row.tenantId,
				title: rendered.title,
				body: rendered.body,
				link: row.link,
				createdAt: row.notificationCreatedAt,
			};
			let payload = JSON.stringify(message);
			if (Buffer.byteLength(payload) > MAX_PUSH_PAYLOAD) {
				const room = MAX_PUSH_PAYLOAD - (Buffer.byteLength(payload) - Buffer.byteLength(message.body)) - 3;
				payload = JSON.stringify({
					...message,
					body: `${Buffer.from(message.body)
						.subarray(0, Math.max(0, room))
						.toString("utf8")
						.replace(/\uFFFD+$/, "")}…`,
				});
			}
			const res = (await ctx.call("pushsubscriptions.deliver", {
				userId: row.userId,
				payload,
				topic: row._id.slice(0, 32),
				exclude: row.sentTo,
			})) as DeliverResult & { subscriptions: number };
			if (res.disabled) return { status: "skipped", reason: "Web Push is off (no VAPID keys)" };
			const sentTo = [...row.sentTo, ...res.sent];
			if (res.retry.length)
				throw Object.assign(new ProviderUnavailableError("push service", res.retry.map(r => r.reason).join("; ")), { sentTo });
			if (sentTo.length) return { status: "sent", sentTo };
			if (!res.subscriptions) return { status: "skipped", reason: "no push subscription", sentTo };
			if (res.rejected.length) throw new ProviderRejectedError("push service", res.rejected.map(r => r.reason).join("; "));
			return { status: "skipped", reason: "every subscription is gone", sentTo };
		},
	},
};

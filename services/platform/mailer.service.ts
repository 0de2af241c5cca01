/**
 * Outgoing e-mail as an internal service (README, "Platform: notifications" → "E-mail"): SMTP through
 * nodemailer (SMTP_URL), `.eml` files under DATA_DIR/mail in development, or off in production without
 * SMTP (lib/mailer.ts). The deliveries service calls `mailer.send` once per attempt of one delivery and
 * retries through its channel; this action is never retried by the broker (a resend is the channel's
 * decision, with the same Message-ID).
 */
import type { ServiceSettingSchema } from "moleculer";
import { config } from "../../lib/config";
import type { Ctx } from "../../lib/context";
import { Mailer, type MailMessage } from "../../lib/mailer";
import type { ServiceSchema } from "../../lib/schema";

interface MailerVars {
	mailer: Mailer;
}

const MailerService: ServiceSchema<ServiceSettingSchema, Record<string, never>, MailerVars> = {
	name: "mailer",

	actions: {
		send: {
			visibility: "public",
			idempotent: false,
			// one SMTP conversation may take up to three timeouts (connection, greeting, socket)
			timeout: config().MAIL_TIMEOUT_MS * 3 + 1000,
			// An SMTP server that fails is reported (503, retryable) by a healthy action: the mailer's own breaker
			// guards the server (lib/mailer.ts). Moleculer's breaker would also shut this action for everyone.
			circuitBreaker: { enabled: false },
			params: {
				$$strict: true,
				to: { type: "email", max: 254 },
				subject: { type: "string", max: 1000 },
				html: { type: "string", max: 500_000 },
				text: { type: "string", max: 200_000 },
				messageId: { type: "string", max: 250, pattern: /^<[^<>\s]+@[^<>\s]+>$/ },
			},
			handler(ctx: Ctx<MailMessage>) {
				return this.mailer.send(ctx.params);
			},
		},
		mode: {
			visibility: "public",
			idempotent: true,
			params: { $$strict: true },
			handler() {
				return { mode: this.mailer.mode };
			},
		},
	},

	created() {
		this.mailer = new Mailer(config(), this.logger);
	},
	started() {
		const line = this.mailer.describe();
		if (this.mailer.mode === "off") this.logger.error(line);
		else this.logger.info(line);
	},
	stopped() {
		this.mailer.close();
	},
};

export default MailerService;

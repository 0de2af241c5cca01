/**
 * Outgoing e-mail (README, "Platform: notifications" → "E-mail"), one of three modes by configuration:
 * - `smtp`: nodemailer over SMTP_URL (pooled connections; connection, greeting and socket timeouts of
 *   MAIL_TIMEOUT_MS; a circuit breaker that fails fast while the server keeps failing);
 * - `files` (no SMTP_URL, outside production): each message is written as an `.eml` file under
 *   DATA_DIR/mail/ and the log says where, so a developer can open the reset link they just asked for;
 * - `off` (no SMTP_URL in production): nothing is sent; deliveries are skipped with a reason, and the start
 *   says so once. Files holding reset links have no place on a production disk.
 *
 * A failure is either temporary (`ProviderUnavailableError`: no connection, a timeout, a 4xx reply, the
 * breaker open) and retried by the delivery channel with backoff, or final (`ProviderRejectedError`: a
 * 5xx reply to the recipient or the message), which no retry can fix.
 */
import fs from "node:fs/promises";
import path from "node:path";
import nodemailer, { type Transporter } from "nodemailer";
import { CircuitBreaker, CircuitOpenError } from "../services/social/circuit-breaker";
import { dataPath, type Config } from "./config";
import { ProviderRejectedError, ProviderUnavailableError } from "./errors";

export interface MailMessage {
	to: string;
	subject: string;
	html: string;
	text: string;
	/** RFC 5322 Message-ID, `<…@…>`: the same for every attempt of one delivery, so a receiver can tell a resend */
	messageId: string;
}

export interface MailResult {
	mode: "smtp" | "files";
	messageId: string;
	/** the .eml written (files mode) */
	file?: string;
}

interface Logger {
	info(...args: unknown[]): void;
	warn(...args: unknown[]): void;
	error(...args: unknown[]): void;
}

interface SmtpError {
	code?: string;
	responseCode?: number;
	message?: string;
}

/** Final refusals: the server answered 5xx about this recipient or this message. */
function isRejection(err: unknown): boolean {
	const e = err as SmtpError;
	return typeof e?.responseCode === "number" && e.responseCode >= 500 && (e.code === "EENVELOPE" || e.code === "EMESSAGE");
}

export class Mailer {
	readonly mode: "smtp" | "files" | "off";
	private readonly transport?: Transporter;
	private readonly breaker: CircuitBreaker;
	private readonly dir: string;

	constructor(
		private readonly cfg: Config,
		private readonly logger: Logger,
	) {
		this.dir = dataPath(cfg, "mail");
		this.mode = cfg.SMTP_URL ? "smtp" : cfg.NODE_ENV === "production" ? "off" : "files";
		const common = { from: cfg.MAIL_FROM, disableFileAccess: true, disableUrlAccess: true } as const;
		if (this.mode === "smtp") {
			this.transport = nodemailer.createTransport(
				// nodemailer's typings have no overload for a pooled transport given by `url` with timeouts
				{
					url: cfg.SMTP_URL,
					pool: true,
					maxConnections: 5,
					connectionTimeout: cfg.MAIL_TIMEOUT_MS,
					greetingTimeout: cfg.MAIL_TIMEOUT_MS,
					socketTimeout: cfg.MAIL_TIMEOUT_MS,
					dnsTimeout: cfg.MAIL_TIMEOUT_MS,
				} as unknown as Parameters<typeof nodemailer.createTransport>[0],
				common,
			);
		} else if (this.mode === "files") {
			this.transport = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: "unix" }, common);
		}
		this.breaker = new CircuitBreaker({
			name: "SMTP server",
			threshold: cfg.NOTIFY_BREAKER_THRESHOLD,
			cooldownMs: cfg.NOTIFY_BREAKER_COOLDOWN_MS,
			isFailure: err => !isRejection(err),
			onStateChange: state => this.logger.warn("SMTP circuit breaker", { state }),
		});
	}

	/** One line for the start log: where mail goes. */
	describe(): string {
		if (this.mode === "smtp") {
			const u = new URL(this.cfg.SMTP_URL!);
			return `e-mail via SMTP ${u.protocol}//${u.host}`;
		}
		if (this.mode === "files") return `e-mail written as .eml files to ${this.dir} (no SMTP_URL; development only)`;
		return "e-mail is OFF: SMTP_URL is not set (NODE_ENV=production writes no mail files)";
	}

	async send(message: MailMessage): Promise<MailResult> {
		if (this.mode === "off" || !this.transport) throw new ProviderRejectedError("mailer", "no SMTP_URL configured");
		const mail = { to: message.to, subject: message.subject, html: message.html, text: message.text, messageId: message.messageId };
		if (this.mode === "files") {
			const info = (await this.transport.sendMail(mail)) as { message: Buffer };
			await fs.mkdir(this.dir, { recursive: true, mode: 0o700 });
			const safeId = message.messageId.replace(/[^\w.-]+/g, "_").slice(0, 80);
			const file = path.join(this.dir, `${new Date().toISOString().replace(/[:.]/g, "-")}-${safeId}.eml`);
			// Written beside, then renamed: whoever watches the folder never opens a half-written mail.
			const partial = `${file}.partial`;
			await fs.writeFile(partial, info.message, { mode: 0o600 });
			await fs.rename(partial, file);
			this.logger.info("e-mail written (no SMTP_URL)", { file });
			return { mode: "files", messageId: message.messageId, file };
		}
		try {
			await this.breaker.run(() => this.transport!.sendMail(mail));
			return { mode: "smtp", messageId: message.messageId };
		} catch (err) {
			if (err instanceof CircuitOpenError) throw new ProviderUnavailableError("SMTP server", err.message);
			const e = err as SmtpError;
			const reason = `${e.code ?? "error"}${e.responseCode ? ` ${e.responseCode}` : ""}: ${String(e.message ?? err).slice(0, 300)}`;
			if (isRejection(err)) throw new ProviderRejectedError("SMTP server", reason);
			throw new ProviderUnavailableError("SMTP server", reason);
		}
	}

	close(): void {
		this.transport?.close();
	}
}

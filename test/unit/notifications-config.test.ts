/**
 * The notification settings: defaults, validation with one line naming the variable, and the push
 * subscription rules they drive (https only outside development, allowed push-service hosts).
 */
import { createECDH, randomBytes } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { appUrl, ConfigError, loadConfig } from "../../lib/config";
import { Mailer } from "../../lib/mailer";
import { checkSubscription, hostAllowed, loadVapidKeys } from "../../lib/webpush";

const keys = () => {
	const ecdh = createECDH("prime256v1");
	ecdh.generateKeys();
	return { p256dh: ecdh.getPublicKey().toString("base64url"), auth: randomBytes(16).toString("base64url") };
};

describe("notification configuration", () => {
	it("has working defaults", () => {
		const cfg = loadConfig({});
		expect(cfg.SMTP_URL).toBeUndefined();
		expect(cfg.MAIL_FROM).toBe("Valence <no-reply@localhost>");
		expect(cfg.PUSH_ALLOW_HTTP).toBe(false);
		expect(cfg.NOTIFY_DELIVERY_RETRIES).toBe(10);
		expect(appUrl(cfg)).toBe("http://localhost:3000");
		expect(appUrl(loadConfig({ APP_URL: "https://app.example.com/" }))).toBe("https://app.example.com");
	});

	it.each([
		[{ SMTP_URL: "http://mail.example.com" }, /^SMTP_URL: .*smtp/],
		[{ VAPID_PUBLIC_KEY: "B".repeat(87) }, /^VAPID_PUBLIC_KEY: set both/],
		[{ VAPID_PRIVATE_KEY: "short" }, /^VAPID_PRIVATE_KEY: /],
		[{ VAPID_SUBJECT: "admin@example.com" }, /^VAPID_SUBJECT: /],
		[{ PUSH_ALLOW_HTTP: "true", NODE_ENV: "production" }, /^PUSH_ALLOW_HTTP: .*production/],
		[{ APP_URL: "ftp://x" }, /^APP_URL: /],
		[{ MAIL_TIMEOUT_MS: "soon" }, /^MAIL_TIMEOUT_MS: /],
	])("rejects %j with one line naming the variable", (env, message) => {
		let error: unknown;
		try {
			loadConfig(env as NodeJS.ProcessEnv);
		} catch (err) {
			error = err;
		}
		expect(error).toBeInstanceOf(ConfigError);
		expect((error as Error).message).toMatch(message);
		expect((error as Error).message).not.toContain("\n");
	});

	it("accepts https endpoints of known push services, http only with PUSH_ALLOW_HTTP outside production", () => {
		const cfg = loadConfig({});
		const k = keys();
		expect(checkSubscription({ endpoint: "https://fcm.googleapis.com/fcm/send/abc", keys: k }, cfg)).toEqual([]);
		expect(checkSubscription({ endpoint: "https://updates.push.services.mozilla.com/wpush/v2/abc", keys: k }, cfg)).toEqual([]);
		expect(checkSubscription({ endpoint: "https://wns2-par02p.notify.windows.com/w/?token=x", keys: k }, cfg)).toEqual([]);
		expect(checkSubscription({ endpoint: "http://fcm.googleapis.com/fcm/send/abc", keys: k }, cfg)).toEqual([
			{ field: "endpoint", message: "must be an https:// URL" },
		]);
		expect(checkSubscription({ endpoint: "https://evil-fcm.googleapis.com.attacker.test/x", keys: k }, cfg)[0].field).toBe("endpoint");
		expect(checkSubscription({ endpoint: "https://169.254.169.254/latest/meta-data", keys: k }, cfg)[0].message).toMatch(/known push service/);
		const dev = loadConfig({ PUSH_ALLOW_HTTP: "true", PUSH_ALLOWED_HOSTS: "127.0.0.1" });
		expect(checkSubscription({ endpoint: "http://127.0.0.1:9999/push/1", keys: k }, dev)).toEqual([]);
		expect(hostAllowed("a.b.push.apple.com", ["push.apple.com"])).toBe(true);
		expect(hostAllowed("push.apple.com.evil", ["push.apple.com"])).toBe(false);
		expect(hostAllowed("anything", ["*"])).toBe(true);
	});

	it("generates dev VAPID keys once outside production, uses configured ones, and has none in production", () => {
		const dir = fs.mkdtempSync(path.join(os.tmpdir(), "valence-vapid-"));
		try {
			const dev = loadVapidKeys(loadConfig({ DATA_DIR: dir }))!;
			expect(dev.generated).toBe(true);
			expect(dev.publicKey).toMatch(/^[A-Za-z0-9_-]{87}$/);
			expect(fs.statSync(path.join(dir, "keys", "vapid.json")).mode & 0o777).toBe(0o600);
			expect(loadVapidKeys(loadConfig({ DATA_DIR: dir }))).toEqual(dev); // the same pair after a restart
			expect(loadVapidKeys(loadConfig({ DATA_DIR: dir, NODE_ENV: "production" }))).toBeNull();
			const configured = loadVapidKeys(
				loadConfig({ NODE_ENV: "production", VAPID_PUBLIC_KEY: dev.publicKey, VAPID_PRIVATE_KEY: dev.privateKey }),
			)!;
			expect(configured).toMatchObject({ publicKey: dev.publicKey, generated: false });
		} finally {
			fs.rmSync(dir, { recursive: true, force: true });
		}
	});

	it("writes no mail files in production: without SMTP_URL e-mail is off", async () => {
		const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };
		expect(new Mailer(loadConfig({}), quiet).mode).toBe("files");
		expect(new Mailer(loadConfig({ SMTP_URL: "smtp://127.0.0.1:2525" }), quiet).mode).toBe("smtp");
		const off = new Mailer(loadConfig({ NODE_ENV: "production" }), quiet);
		expect(off.mode).toBe("off");
		expect(off.describe()).toMatch(/OFF/);
		await expect(off.send({ to: "a@b.c", subject: "s", html: "h", text: "t", messageId: "<x@y>" })).rejects.toMatchObject({
			name: "ProviderRejectedError",
		});
	});
});

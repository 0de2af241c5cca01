/**
 * With the settings a plain `npm start` has (NODE_ENV unset, so development; info logs; NeDB files under
 * DATA_DIR), a password-reset token reaches the mailer and works, yet appears neither in any log line nor
 * in any file under DATA_DIR (the outbox file included: NeDB appends, so a removed row stays in the file).
 * Only the loudly named DEV_LOG_RESET_LINKS=true writes it to the log, and says so at start.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { ServiceBroker, ServiceSchema } from "moleculer";
import { startPlatform, type Platform } from "../helpers/platform";
import { waitFor } from "../helpers/wait";

const PASSWORD = "correct-horse-42";

const links: { resetId: string; token: string }[] = [];
const Mailer = {
	name: "testmailer",
	channels: {
		"notifications.passwordReset": {
			group: "testmailer",
			async handler(this: { broker: ServiceBroker }, msg: { params?: { resetId: string } } & { resetId?: string }) {
				const { resetId } = (msg.params ?? msg) as { resetId: string };
				const link = (await this.broker.call("auth.passwordResetLink", { resetId })) as { token: string } | null;
				if (link) links.push({ resetId, token: link.token });
			},
		},
	},
} as unknown as ServiceSchema;

function filesUnder(dir: string): string[] {
	return fs
		.readdirSync(dir, { withFileTypes: true })
		.flatMap(e => (e.isDirectory() ? filesUnder(path.join(dir, e.name)) : [path.join(dir, e.name)]));
}

describe("password-reset tokens stay out of logs and files", () => {
	let logged: string[];
	let spies: jest.SpyInstance[];

	beforeEach(() => {
		logged = [];
		spies = (["log", "info", "warn", "error", "debug"] as const).map(m =>
			jest.spyOn(console, m).mockImplementation((...args: unknown[]) => {
				logged.push(args.map(a => (typeof a === "string" ? a : JSON.stringify(a))).join(" "));
			}),
		);
	});
	afterEach(() => spies.forEach(s => s.mockRestore()));

	async function resetFlow(env: Record<string, string>) {
		const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "valence-reset-"));
		// "" is unset: NODE_ENV and LOG_LEVEL take their defaults (development, info), DB_DRIVER follows (nedb)
		const p: Platform = await startPlatform({
			services: ["auth", "users", "tenants"],
			extra: [Mailer],
			env: { NODE_ENV: "", LOG_LEVEL: "", DB_DRIVER: "", DATA_DIR: dataDir, PASSWORD_SCRYPT_N: "1024", DEV_LOG_RESET_LINKS: "", ...env },
		});
		try {
			const email = `reset-${path.basename(dataDir)}@example.com`.toLowerCase();
			expect((await p.http("POST", "/api/auth/register", { body: { email, password: PASSWORD, name: "Reset" } })).status).toBe(201);
			const before = links.length;
			expect((await p.http("POST", "/api/auth/password/forgot", { body: { email } })).status).toBe(202);
			const link = (await waitFor(() => links[before], { what: "the mailer's link" }))!;
			// it is the real token: it sets a new password
			expect((await p.http("POST", "/api/auth/password/reset", { body: { token: link.token, password: "after-the-reset-9" } })).status).toBe(
				204,
			);
			expect((await p.http("POST", "/api/auth/login", { body: { email, password: "after-the-reset-9" } })).status).toBe(200);
			return { link, dataDir };
		} finally {
			await p.stop();
		}
	}

	it("keeps the token out of the log and out of every file with default settings", async () => {
		const { link, dataDir } = await resetFlow({});
		const log = logged.join("\n");
		expect(log).toContain("password reset requested"); // the log was captured, at the default level
		expect(log).not.toContain(link.token);
		expect(log).not.toContain("DEV_LOG_RESET_LINKS");

		const files = filesUnder(dataDir);
		const outbox = files.find(f => f.endsWith(path.join("db", "auth_outbox.db")));
		expect(outbox).toBeDefined();
		expect(fs.readFileSync(outbox!, "utf8")).toContain(link.resetId); // the event went through the outbox file
		for (const file of files) expect({ file, hasToken: fs.readFileSync(file, "latin1").includes(link.token) }).toEqual({ file, hasToken: false });
	});

	it("logs it only with DEV_LOG_RESET_LINKS=true, with a warning at start", async () => {
		const { link } = await resetFlow({ DEV_LOG_RESET_LINKS: "true" });
		const log = logged.join("\n");
		expect(log).toMatch(/WARN .*DEV_LOG_RESET_LINKS=true: password-reset tokens are WRITTEN TO THE LOG/);
		expect(log).toContain(link.token);
	});
});

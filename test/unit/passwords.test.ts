import {
	hashPassword,
	OWASP_SCRYPT,
	OverloadedError,
	parseHash,
	passwordProblems,
	Semaphore,
	verifyPassword,
} from "../../services/identity/passwords";
import { loadConfig } from "../../lib/config";
import { toProblem } from "../../lib/problem";

const FAST = { N: 1024, r: 8, p: 1 };

describe("password hashing", () => {
	it("hashes at OWASP parameters by default, in a self-describing format", async () => {
		const stored = await hashPassword("correct horse battery");
		expect(stored).toMatch(/^scrypt\$131072\$8\$1\$[\w-]{22}\$[\w-]{86}$/);
		expect(parseHash(stored)).toMatchObject(OWASP_SCRYPT);
		await expect(verifyPassword("correct horse battery", stored)).resolves.toBe(true);
	});

	it("verifies the right password and rejects a wrong one", async () => {
		const stored = await hashPassword("s3cret-passphrase", FAST);
		await expect(verifyPassword("s3cret-passphrase", stored)).resolves.toBe(true);
		await expect(verifyPassword("s3cret-passphrasE", stored)).resolves.toBe(false);
		await expect(verifyPassword("", stored)).resolves.toBe(false);
	});

	it("salts every hash", async () => {
		const [a, b] = await Promise.all([hashPassword("same password!", FAST), hashPassword("same password!", FAST)]);
		expect(a).not.toBe(b);
	});

	it("verifies with the parameters stored in the hash, not the current ones", async () => {
		const stored = await hashPassword("older password", { N: 2048, r: 8, p: 1 });
		expect(stored.startsWith("scrypt$2048$8$1$")).toBe(true);
		await expect(verifyPassword("older password", stored)).resolves.toBe(true);
	});

	it("treats malformed or foreign hashes as a mismatch", async () => {
		const stored = await hashPassword("a password here", FAST);
		const parts = stored.split("$");
		for (const bad of [
			"",
			"plain",
			"bcrypt$2b$10$abc",
			parts.slice(0, 5).join("$"),
			["scrypt", "1000", ...parts.slice(2)].join("$"),
			[...parts.slice(0, 5), "c2hvcnQ"].join("$"),
		]) {
			expect(parseHash(bad)).toBeNull();
			await expect(verifyPassword("a password here", bad)).resolves.toBe(false);
		}
	});
});

describe("password rules", () => {
	it("accepts a long enough password unrelated to the email", () => {
		expect(passwordProblems("purple-elephant-42", "alice@example.com")).toEqual([]);
	});
	it("rejects short, overlong and email-derived passwords", () => {
		expect(passwordProblems("short", "a@example.com")[0].field).toBe("password");
		expect(passwordProblems("x".repeat(257), "a@example.com")).toHaveLength(1);
		expect(passwordProblems("alice@example.com", "alice@example.com")).toHaveLength(1);
		expect(passwordProblems("my-ALICE-password", "alice@example.com")).toHaveLength(1);
	});
});

describe("hashing concurrency", () => {
	it("runs at most `max` tasks at once and queues the rest", async () => {
		const gate = new Semaphore(2, 10);
		let running = 0;
		let peak = 0;
		const releases: (() => void)[] = [];
		const task = () =>
			gate.run(async () => {
				running++;
				peak = Math.max(peak, running);
				await new Promise<void>(r => releases.push(r));
				running--;
			});
		const all = Promise.all([task(), task(), task(), task(), task()]);
		const waitForReleases = async (n: number) => {
			while (releases.length < n) await new Promise(r => setImmediate(r));
		};
		for (let n = 1; n <= 5; n++) {
			await waitForReleases(n);
			expect(running).toBeLessThanOrEqual(2);
			releases[n - 1]();
		}
		await all;
		expect(peak).toBe(2);
		expect(gate.pending).toBe(0);
	});

	it("answers 503 OVERLOADED past the queue bound", async () => {
		const gate = new Semaphore(1, 1);
		let release!: () => void;
		const first = gate.run(() => new Promise<void>(r => (release = r)));
		const second = gate.run(async () => "second");
		await expect(gate.run(async () => "third")).rejects.toBeInstanceOf(OverloadedError);
		const p = toProblem(new OverloadedError());
		expect(p).toMatchObject({ status: 503, code: "OVERLOADED" });
		release();
		await first;
		await expect(second).resolves.toBe("second");
	});
});

describe("PASSWORD_SCRYPT_N", () => {
	it("defaults to OWASP's 2^17 and accepts only powers of two", () => {
		expect(loadConfig({}).PASSWORD_SCRYPT_N).toBe(131072);
		expect(loadConfig({ PASSWORD_SCRYPT_N: "1024" }).PASSWORD_SCRYPT_N).toBe(1024);
		expect(() => loadConfig({ PASSWORD_SCRYPT_N: "3000" })).toThrow(/PASSWORD_SCRYPT_N: must be a power of two/);
		expect(() => loadConfig({ PASSWORD_SCRYPT_N: "512" })).toThrow(/PASSWORD_SCRYPT_N/);
	});
});
